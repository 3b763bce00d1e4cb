//! The Falco rules language front end. Stage: **engine front end**. Usable
//! alone: parsing, checking and loading need no kernel and no events.
//!
//! - [`parser`]: hand-written lexer and parser for Falco's filter grammar
//!   (libsinsp's rules: precedence, every operator and modifier, lists,
//!   field arguments, transformers, macro references, depth limit), giving
//!   an [`ast::Expr`] with positions.
//! - [`fields`]: the field registry of the `syscall` source (libsinsp's
//!   classes and the container plugin's `container.*`/`k8s.*`) and of
//!   `k8s_audit` (`ka.*`, `jevt.*`), with libsinsp's name resolution;
//!   [`check`] type-checks conditions against it.
//! - [`loader`]: rules files with Falco 0.44's semantics (lists, macros,
//!   rules, exceptions, overrides, appends, versions, plugin requirements),
//!   errors and warnings with Falco's codes, contexts, snippets and JSON.
//! - [`ruleset`]: the result the engine consumes, and rule selection.
//! - [`evttypes`]: the event types a condition can match (the engine's
//!   index), [`output`]: `%field` templates, [`describe`]: `-L` output.
//!
//! ```
//! use peregrine_rules::loader::Loader;
//! use peregrine_rules::ruleset::NameMatch;
//!
//! let mut loader = Loader::new();
//! let res = loader.load(
//!     "my_rules.yaml",
//!     r#"
//! - list: shells
//!   items: [bash, sh]
//! - macro: spawned_process
//!   condition: evt.type in (execve, execveat)
//! - rule: Shell spawned
//!   desc: a shell was started
//!   condition: spawned_process and proc.name in (shells)
//!   output: "Shell started (user=%user.name cmd=%proc.cmdline)"
//!   priority: WARNING
//!   tags: [shell, process]
//! "#,
//! );
//! assert!(res.successful, "{}", res.summary());
//! let mut rs = loader.into_ruleset().unwrap();
//! let rule = &rs.rules[0];
//! // Macros inlined, lists expanded: what the engine evaluates.
//! assert_eq!(
//!     rule.condition_compiled,
//!     "(evt.type in (execve, execveat) and proc.name in (bash, sh))"
//! );
//! assert_eq!(rule.event_types.names(), vec!["execve", "execveat"]);
//! assert_eq!(rule.output_template.fields().collect::<Vec<_>>(), ["user.name", "proc.cmdline"]);
//! // Selection, as falco.yaml's `rules:` section does it.
//! rs.enable("Shell*", NameMatch::Wildcard, false, 0);
//! assert_eq!(rs.enabled_count(0), 0);
//! ```

pub mod ast;
pub mod check;
pub mod describe;
pub mod escaping;
pub mod evttypes;
pub mod fields;
pub mod loader;
pub mod output;
pub mod parser;
pub mod ruleset;

pub use ast::{CmpOp, Expr, ExprKind, Modifier, Operator, Pos, Transformer};
pub use fields::{ClassInfo, FieldRegistry, FieldType};
pub use parser::{parse, ParseError, Parser};
