//! The filter AST: what the parser produces, macros are inlined into and the
//! engine compiles. Every node keeps its source position.
//!
//! Shapes follow libsinsp's AST so that printing ([`Expr::to_condition`])
//! gives the exact strings Falco shows (`condition_compiled`).

use std::fmt;

use crate::escaping::escape_str;

/// Position of a node in its condition: byte offset (0-based), line and
/// column (1-based). A `\r` or `\n` starts a new line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pos {
    pub offset: u32,
    pub line: u32,
    pub column: u32,
}

impl Default for Pos {
    fn default() -> Pos {
        Pos {
            offset: 0,
            line: 1,
            column: 1,
        }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Comparison operators, spelled as written (`=` and `==` are the same
/// operation but print as written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    EqEq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    IContains,
    BContains,
    StartsWith,
    BStartsWith,
    EndsWith,
    Glob,
    IGlob,
    Regex,
    In,
    Intersects,
    PMatch,
    Exists,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        use CmpOp::*;
        match self {
            Eq => "=",
            EqEq => "==",
            Ne => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            Contains => "contains",
            IContains => "icontains",
            BContains => "bcontains",
            StartsWith => "startswith",
            BStartsWith => "bstartswith",
            EndsWith => "endswith",
            Glob => "glob",
            IGlob => "iglob",
            Regex => "regex",
            In => "in",
            Intersects => "intersects",
            PMatch => "pmatch",
            Exists => "exists",
        }
    }

    /// Parses an operator token (exact spelling, no surrounding blanks).
    pub fn parse(s: &str) -> Option<CmpOp> {
        use CmpOp::*;
        Some(match s {
            "=" => Eq,
            "==" => EqEq,
            "!=" => Ne,
            "<" => Lt,
            "<=" => Le,
            ">" => Gt,
            ">=" => Ge,
            "contains" => Contains,
            "icontains" => IContains,
            "bcontains" => BContains,
            "startswith" => StartsWith,
            "bstartswith" => BStartsWith,
            "endswith" => EndsWith,
            "glob" => Glob,
            "iglob" => IGlob,
            "regex" => Regex,
            "in" => In,
            "intersects" => Intersects,
            "pmatch" => PMatch,
            "exists" => Exists,
            _ => return None,
        })
    }

    /// `=` or `==`.
    pub fn is_equality(self) -> bool {
        matches!(self, CmpOp::Eq | CmpOp::EqEq)
    }

    /// Operators whose right-hand side is a list (`in`, `intersects`, `pmatch`).
    pub fn takes_list(self) -> bool {
        matches!(self, CmpOp::In | CmpOp::Intersects | CmpOp::PMatch)
    }

    /// Operators that accept a `oneof`/`anyof`/`allof` modifier.
    pub fn accepts_modifier(self) -> bool {
        use CmpOp::*;
        matches!(
            self,
            Eq | EqEq
                | Ne
                | Contains
                | IContains
                | BContains
                | StartsWith
                | BStartsWith
                | EndsWith
                | Glob
                | IGlob
                | Regex
        )
    }
}

/// List modifiers of string operators: `startswith oneof (a, b)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    OneOf,
    AnyOf,
    AllOf,
}

impl Modifier {
    pub fn as_str(self) -> &'static str {
        match self {
            Modifier::OneOf => "oneof",
            Modifier::AnyOf => "anyof",
            Modifier::AllOf => "allof",
        }
    }

    pub fn parse(s: &str) -> Option<Modifier> {
        Some(match s {
            "oneof" => Modifier::OneOf,
            "anyof" => Modifier::AnyOf,
            "allof" => Modifier::AllOf,
            _ => return None,
        })
    }
}

/// A comparison: operator plus optional list modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operator {
    pub op: CmpOp,
    pub modifier: Option<Modifier>,
}

impl Operator {
    pub fn new(op: CmpOp) -> Operator {
        Operator { op, modifier: None }
    }

    /// Parses `op` or `op modifier` separated by one space (the form the
    /// parser produces and exception `comps` use once trimmed).
    pub fn parse(s: &str) -> Option<Operator> {
        match s.split_once(' ') {
            None => CmpOp::parse(s).map(Operator::new),
            Some((op, m)) => Some(Operator {
                op: CmpOp::parse(op)?,
                modifier: Some(Modifier::parse(m)?),
            }),
        }
    }

    /// Whether the right-hand side is a list of values.
    pub fn takes_list(self) -> bool {
        self.op.takes_list() || self.modifier.is_some()
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.op.as_str())?;
        if let Some(m) = self.modifier {
            write!(f, " {}", m.as_str())?;
        }
        Ok(())
    }
}

/// Field transformers (`val` only on the right-hand side).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transformer {
    ToLower,
    ToUpper,
    B64,
    Basename,
    Len,
    Join,
    Concat,
    Getopt,
    Val,
}

impl Transformer {
    /// Every transformer but `val`, in libsinsp's order.
    pub const FUNCTIONS: [Transformer; 8] = [
        Transformer::ToLower,
        Transformer::ToUpper,
        Transformer::B64,
        Transformer::Basename,
        Transformer::Len,
        Transformer::Join,
        Transformer::Concat,
        Transformer::Getopt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Transformer::ToLower => "tolower",
            Transformer::ToUpper => "toupper",
            Transformer::B64 => "b64",
            Transformer::Basename => "basename",
            Transformer::Len => "len",
            Transformer::Join => "join",
            Transformer::Concat => "concat",
            Transformer::Getopt => "getopt",
            Transformer::Val => "val",
        }
    }

    pub fn parse(s: &str) -> Option<Transformer> {
        if s == "val" {
            return Some(Transformer::Val);
        }
        Transformer::FUNCTIONS.into_iter().find(|t| t.as_str() == s)
    }

    /// Transformers taking several arguments (`join`, `concat`, `getopt`).
    pub fn is_multivalue(self) -> bool {
        matches!(
            self,
            Transformer::Join | Transformer::Concat | Transformer::Getopt
        )
    }
}

/// One node of a filter expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// Two or more children, all must hold.
    And(Vec<Expr>),
    /// Two or more children, one must hold.
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// `left exists` (the only unary operator).
    Unary {
        left: Box<Expr>,
        op: CmpOp,
    },
    /// `left op right`; `right` is a value, a list, a transformer or a
    /// bare identifier (a list name not resolved away, e.g. in `in x`).
    Binary {
        left: Box<Expr>,
        op: Operator,
        right: Box<Expr>,
    },
    /// A bare identifier where a check is expected: a macro reference.
    Identifier(String),
    /// A constant (unescaped).
    Value(String),
    /// A constant list `(a, b, 'c d')`.
    List(Vec<String>),
    /// A list of transformer arguments `(fd.name, "x")`.
    TransformerList(Vec<Expr>),
    /// A field with its optional argument: `proc.aname[2]`, `evt.arg[0]`.
    Field {
        name: String,
        arg: Option<String>,
    },
    /// `tolower(proc.name)`, `getopt(proc.args, "n:")[n]`, `val(fd.name)`.
    Transform {
        transformer: Transformer,
        args: Vec<Expr>,
        arg: Option<String>,
    },
}

impl Expr {
    pub fn new(kind: ExprKind, pos: Pos) -> Expr {
        Expr { kind, pos }
    }

    /// libsinsp's canonical one-line form (`ast::as_string`), the form of
    /// Falco's `condition_compiled`.
    pub fn to_condition(&self) -> String {
        let mut s = String::new();
        self.write_condition(&mut s);
        s
    }

    fn write_condition(&self, s: &mut String) {
        match &self.kind {
            ExprKind::And(children) | ExprKind::Or(children) => {
                let op = if matches!(self.kind, ExprKind::And(_)) {
                    " and "
                } else {
                    " or "
                };
                s.push('(');
                for (i, c) in children.iter().enumerate() {
                    if i > 0 {
                        s.push_str(op);
                    }
                    c.write_condition(s);
                }
                s.push(')');
            }
            ExprKind::Not(child) => {
                s.push_str("not ");
                child.write_condition(s);
            }
            ExprKind::Unary { left, op } => {
                left.write_condition(s);
                s.push(' ');
                s.push_str(op.as_str());
            }
            ExprKind::Binary { left, op, right } => {
                left.write_condition(s);
                s.push(' ');
                s.push_str(&op.to_string());
                s.push(' ');
                right.write_condition(s);
            }
            ExprKind::Identifier(id) => s.push_str(id),
            ExprKind::Value(v) => s.push_str(&escape_str(v)),
            ExprKind::List(values) => {
                s.push('(');
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    s.push_str(&escape_str(v));
                }
                s.push(')');
            }
            ExprKind::TransformerList(children) => {
                s.push('(');
                for (i, c) in children.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    c.write_condition(s);
                }
                s.push(')');
            }
            ExprKind::Field { name, arg } => {
                s.push_str(name);
                write_field_arg(s, arg);
            }
            ExprKind::Transform {
                transformer,
                args,
                arg,
            } => {
                s.push_str(transformer.as_str());
                s.push('(');
                for (i, c) in args.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    c.write_condition(s);
                }
                s.push(')');
                write_field_arg(s, arg);
            }
        }
    }

    /// Node kinds and positions in visiting order, as libsinsp's position
    /// tests print them (`binary0 1 1field0 1 1value10 1 11`).
    pub fn positions(&self) -> String {
        let mut s = String::new();
        self.write_positions(&mut s);
        s
    }

    fn write_positions(&self, s: &mut String) {
        let name = match &self.kind {
            ExprKind::And(_) => "and",
            ExprKind::Or(_) => "or",
            ExprKind::Not(_) => "not",
            ExprKind::Unary { .. } => "unary",
            ExprKind::Binary { .. } => "binary",
            ExprKind::Identifier(_) => "identifier",
            ExprKind::Value(_) => "value",
            ExprKind::List(_) => "list",
            ExprKind::TransformerList(_) => "transformer_list",
            ExprKind::Field { .. } => "field",
            ExprKind::Transform { .. } => "transformer",
        };
        s.push_str(&format!(
            "{}{} {} {}",
            name, self.pos.offset, self.pos.line, self.pos.column
        ));
        match &self.kind {
            ExprKind::And(c) | ExprKind::Or(c) => c.iter().for_each(|c| c.write_positions(s)),
            ExprKind::Not(c) => c.write_positions(s),
            ExprKind::Unary { left, .. } => left.write_positions(s),
            ExprKind::Binary { left, right, .. } => {
                left.write_positions(s);
                right.write_positions(s);
            }
            ExprKind::Transform { args, .. } => args.iter().for_each(|c| c.write_positions(s)),
            _ => {}
        }
    }

    /// Nesting depth of the tree (a leaf is 1).
    pub fn depth(&self) -> usize {
        match &self.kind {
            ExprKind::And(c) | ExprKind::Or(c) | ExprKind::TransformerList(c) => {
                1 + c.iter().map(Expr::depth).max().unwrap_or(0)
            }
            ExprKind::Transform { args, .. } => 1 + args.iter().map(Expr::depth).max().unwrap_or(0),
            ExprKind::Not(c) => 1 + c.depth(),
            ExprKind::Unary { left, .. } => 1 + left.depth(),
            ExprKind::Binary { left, right, .. } => 1 + left.depth().max(right.depth()),
            _ => 1,
        }
    }

    /// Calls `f` on every node, parents before children.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::And(c) | ExprKind::Or(c) | ExprKind::TransformerList(c) => {
                c.iter().for_each(|c| c.walk(f))
            }
            ExprKind::Transform { args, .. } => args.iter().for_each(|c| c.walk(f)),
            ExprKind::Not(c) => c.walk(f),
            ExprKind::Unary { left, .. } => left.walk(f),
            ExprKind::Binary { left, right, .. } => {
                left.walk(f);
                right.walk(f);
            }
            _ => {}
        }
    }
}

fn write_field_arg(s: &mut String, arg: &Option<String>) {
    if let Some(a) = arg {
        if a.is_empty() {
            s.push_str("[\"\"]");
        } else {
            s.push('[');
            s.push_str(&escape_str(a));
            s.push(']');
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_condition())
    }
}
