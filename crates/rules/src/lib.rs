//! The Falco rules language front end: filter lexer and parser, the field
//! registry, and the rules-file loader with validation. Usable alone (no
//! kernel, no events).

pub mod ast;
pub mod escaping;
pub mod parser;

pub use ast::{CmpOp, Expr, ExprKind, Modifier, Operator, Pos, Transformer};
pub use parser::{parse, ParseError, Parser};
pub mod fields;

/// A registry with extra field classes (tests use libsinsp's mock fields).
pub use fields::ClassInfo;
#[rustfmt::skip]
mod gen_events;
pub mod check;
pub mod describe;
pub mod evttypes;
pub mod loader;
pub mod output;
pub mod ruleset;

pub use fields::{FieldRegistry, FieldType};
