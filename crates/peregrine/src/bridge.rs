//! From the rules front end to the engine: a loaded ruleset's expanded
//! conditions and parsed outputs become [`RuleInput`]s. The only place that
//! knows both sides.

use peregrine_engine::cond::{Cond, FieldRef, Op, Rhs, Transformer as ETransformer};
use peregrine_engine::{OutputPart, RuleInput};
use peregrine_rules::ast::{CmpOp, Expr, ExprKind, Modifier, Transformer};
use peregrine_rules::loader::Loader;
use peregrine_rules::output::{OutputPart as ROutputPart, OutputTemplate};
use peregrine_rules::ruleset::{Rule, Ruleset};

/// Loads rules files as one ruleset, in order.
pub fn load_ruleset(paths: &[String]) -> Result<Ruleset, String> {
    let mut loader = Loader::new();
    for p in paths {
        let content =
            std::fs::read_to_string(p).map_err(|e| format!("cannot read rules file {p}: {e}"))?;
        let res = loader.load(p, &content);
        if !res.successful {
            return Err(format!("{p}: {}", res.summary()));
        }
    }
    loader
        .into_ruleset()
        .ok_or_else(|| "rules could not be compiled".to_string())
}

/// Rules of `ruleset` (enabled state as selected in `selection`) for the
/// engine. Rules of other sources are kept (the engine skips them).
pub fn rule_inputs(rs: &Ruleset, selection: usize) -> Result<Vec<RuleInput>, String> {
    rs.rules
        .iter()
        .map(|r| rule_input(rs, r, selection))
        .collect()
}

fn rule_input(rs: &Ruleset, r: &Rule, selection: usize) -> Result<RuleInput, String> {
    let condition = cond(&r.condition).map_err(|e| format!("rule '{}': {e}", r.name))?;
    let output =
        output_parts(&r.output_template).map_err(|e| format!("rule '{}' output: {e}", r.name))?;
    Ok(RuleInput {
        name: r.name.clone(),
        condition,
        output,
        priority: r.priority,
        tags: r.tags.clone(),
        source: r.source.clone(),
        enabled: rs.is_enabled(r.id, selection),
        capture: r.capture,
        capture_duration_ms: r.capture_duration,
    })
}

fn field_ref(e: &Expr) -> Result<FieldRef, String> {
    match &e.kind {
        ExprKind::Field { name, arg } => Ok(FieldRef {
            name: name.clone(),
            arg: arg.clone(),
            transformers: Vec::new(),
        }),
        ExprKind::Transform {
            transformer,
            args,
            arg: None,
        } if args.len() == 1 => {
            let mut inner = field_ref(&args[0])?;
            let t = match transformer {
                Transformer::ToLower => ETransformer::Tolower,
                Transformer::ToUpper => ETransformer::Toupper,
                Transformer::B64 => ETransformer::B64,
                Transformer::Basename => ETransformer::Basename,
                Transformer::Len => ETransformer::Len,
                other => return Err(format!("transformer {other:?} is not supported yet")),
            };
            inner.transformers.push(t);
            Ok(inner)
        }
        _ => Err(format!("expected a field at {}", e.pos)),
    }
}

fn op(c: CmpOp) -> Op {
    match c {
        CmpOp::Eq | CmpOp::EqEq => Op::Eq,
        CmpOp::Ne => Op::Ne,
        CmpOp::Lt => Op::Lt,
        CmpOp::Le => Op::Le,
        CmpOp::Gt => Op::Gt,
        CmpOp::Ge => Op::Ge,
        CmpOp::Contains => Op::Contains,
        CmpOp::IContains => Op::IContains,
        CmpOp::BContains => Op::BContains,
        CmpOp::StartsWith => Op::StartsWith,
        CmpOp::BStartsWith => Op::BStartsWith,
        CmpOp::EndsWith => Op::EndsWith,
        CmpOp::Glob => Op::Glob,
        CmpOp::IGlob => Op::IGlob,
        CmpOp::Regex => Op::Regex,
        CmpOp::In => Op::In,
        CmpOp::Intersects => Op::Intersects,
        CmpOp::PMatch => Op::Pmatch,
        CmpOp::Exists => Op::Exists,
    }
}

fn rhs(e: &Expr) -> Result<Rhs, String> {
    Ok(match &e.kind {
        ExprKind::Value(v) => Rhs::Value(v.clone()),
        ExprKind::List(vs) => Rhs::List(vs.clone()),
        ExprKind::Transform {
            transformer: Transformer::Val,
            args,
            ..
        } if args.len() == 1 => Rhs::Field(field_ref(&args[0])?),
        ExprKind::Identifier(name) => {
            return Err(format!("unresolved list or macro '{name}' at {}", e.pos))
        }
        _ => return Err(format!("unsupported right-hand side at {}", e.pos)),
    })
}

/// The engine's form of an expanded condition.
pub fn cond(e: &Expr) -> Result<Cond, String> {
    Ok(match &e.kind {
        ExprKind::And(xs) => Cond::And(xs.iter().map(cond).collect::<Result<_, _>>()?),
        ExprKind::Or(xs) => Cond::Or(xs.iter().map(cond).collect::<Result<_, _>>()?),
        ExprKind::Not(x) => Cond::Not(Box::new(cond(x)?)),
        ExprKind::Unary { left, op: o } => Cond::Cmp {
            field: field_ref(left)?,
            op: op(*o),
            rhs: Rhs::None,
        },
        ExprKind::Binary { left, op: o, right } => {
            let field = field_ref(left)?;
            let r = rhs(right)?;
            // RE2 accepts braces that are not repetitions; Rust's regex
            // wants them escaped.
            let r = match (o.op, r) {
                (CmpOp::Regex, Rhs::Value(v)) => Rhs::Value(peregrine_rules::check::re2_braces(&v)),
                (_, r) => r,
            };
            match (o.modifier, r) {
                (None, r) => Cond::Cmp {
                    field,
                    op: op(o.op),
                    rhs: r,
                },
                // `startswith oneof (a, b)`: the operator against each value.
                (Some(m), r) => {
                    let values = match r {
                        Rhs::List(vs) => vs,
                        Rhs::Value(v) => vec![v],
                        _ => return Err(format!("modifier needs values at {}", e.pos)),
                    };
                    let each = values
                        .into_iter()
                        .map(|v| Cond::Cmp {
                            field: field.clone(),
                            op: op(o.op),
                            rhs: Rhs::Value(v),
                        })
                        .collect();
                    match m {
                        Modifier::AllOf => Cond::And(each),
                        Modifier::OneOf | Modifier::AnyOf => Cond::Or(each),
                    }
                }
            }
        }
        ExprKind::Identifier(name) => {
            return Err(format!("unresolved macro '{name}' at {}", e.pos))
        }
        _ => return Err(format!("unexpected expression at {}", e.pos)),
    })
}

/// Template parts for the engine; fields the engine cannot extract yet
/// (e.g. plugin transformers) are an error.
pub fn output_parts(t: &OutputTemplate) -> Result<Vec<OutputPart>, String> {
    t.parts
        .iter()
        .map(|p| {
            Ok(match p {
                ROutputPart::Literal(s) => OutputPart::Text(s.clone()),
                ROutputPart::Field { expr, .. } => OutputPart::Field(field_ref(expr)?),
            })
        })
        .collect()
}

/// A standalone filter expression (no macros or lists) for the `syscall`
/// source: parsed, type-checked like a rule condition, then converted.
/// Errors carry the line and column in the expression.
pub fn filter(expression: &str) -> Result<Cond, String> {
    let ast = peregrine_rules::parse(expression)
        .map_err(|e| format!("error at {}:{}: {}", e.pos.line, e.pos.column, e.message))?;
    let registry = peregrine_rules::FieldRegistry::syscall();
    peregrine_rules::check::check(&ast, &registry)
        .map_err(|e| format!("error at {}:{}: {}", e.pos.line, e.pos.column, e.message))?;
    cond(&ast)
}
