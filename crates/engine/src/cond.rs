//! The condition form the engine compiles: a small tree of boolean nodes
//! over field comparisons. The rules front end (`peregrine-rules`) produces
//! conditions with macros and lists already expanded; an adapter turns its
//! AST into this form, so the engine knows nothing of YAML or rules files.

/// A field reference as written: `proc.aname[2]`, `tolower(fd.name)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldRef {
    pub name: String,
    pub arg: Option<String>,
    /// Transformers, innermost first (`tolower(basename(fd.name))` →
    /// `[Basename, Tolower]`).
    pub transformers: Vec<Transformer>,
}

impl FieldRef {
    pub fn new(name: &str) -> FieldRef {
        FieldRef {
            name: name.to_string(),
            arg: None,
            transformers: Vec::new(),
        }
    }

    pub fn with_arg(name: &str, arg: &str) -> FieldRef {
        FieldRef {
            name: name.to_string(),
            arg: Some(arg.to_string()),
            transformers: Vec::new(),
        }
    }

    /// The reference as Falco writes it in output fields (`proc.aname[2]`).
    pub fn display(&self) -> String {
        let mut s = self.name.clone();
        if let Some(a) = &self.arg {
            s.push('[');
            s.push_str(a);
            s.push(']');
        }
        for t in &self.transformers {
            s = format!("{}({s})", t.name());
        }
        s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transformer {
    Tolower,
    Toupper,
    B64,
    Basename,
    Len,
}

impl Transformer {
    pub fn from_name(s: &str) -> Option<Transformer> {
        Some(match s {
            "tolower" => Transformer::Tolower,
            "toupper" => Transformer::Toupper,
            "b64" => Transformer::B64,
            "basename" => Transformer::Basename,
            "len" => Transformer::Len,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Transformer::Tolower => "tolower",
            Transformer::Toupper => "toupper",
            Transformer::B64 => "b64",
            Transformer::Basename => "basename",
            Transformer::Len => "len",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
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
    In,
    Intersects,
    Pmatch,
    Exists,
    Regex,
}

impl Op {
    pub fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "=" | "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "contains" => Op::Contains,
            "icontains" => Op::IContains,
            "bcontains" => Op::BContains,
            "startswith" => Op::StartsWith,
            "bstartswith" => Op::BStartsWith,
            "endswith" => Op::EndsWith,
            "glob" => Op::Glob,
            "iglob" => Op::IGlob,
            "in" => Op::In,
            "intersects" => Op::Intersects,
            "pmatch" => Op::Pmatch,
            "exists" => Op::Exists,
            "regex" => Op::Regex,
            _ => return None,
        })
    }
}

/// Right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Rhs {
    /// `exists` has none.
    None,
    Value(String),
    List(Vec<String>),
    /// `val(other.field)`.
    Field(FieldRef),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp {
        field: FieldRef,
        op: Op,
        rhs: Rhs,
    },
    /// A constant (an empty macro, a folded sub-condition).
    Const(bool),
}

impl Cond {
    pub fn cmp(field: &str, op: Op, value: &str) -> Cond {
        Cond::Cmp {
            field: FieldRef::new(field),
            op,
            rhs: Rhs::Value(value.to_string()),
        }
    }
}
