//! Hand-written recursive-descent parser for Falco's filter grammar.
//!
//! The grammar and its corner cases follow libsinsp's parser (the reference
//! Falco rules are written against): `or` binds looser than `and`, `not`
//! prefixes a check, operators are matched longest-first, word operators
//! need a blank after them, bare identifiers are macro references, field
//! arguments go in brackets, and transformers wrap fields. Recursion is
//! bounded: nesting deeper than the depth limit is an error, never a crash.

use std::fmt;

use crate::ast::{CmpOp, Expr, ExprKind, Modifier, Operator, Pos, Transformer};
use crate::escaping;

/// libsinsp's default nesting limit.
pub const DEFAULT_MAX_DEPTH: u32 = 100;

/// A syntax error with the position the parser had reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub pos: Pos,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error at {}: {}", self.pos, self.message)
    }
}

impl std::error::Error for ParseError {}

type Result<T> = std::result::Result<T, ParseError>;

/// Parses a whole condition with the default depth limit.
///
/// ```
/// let e = peregrine_rules::parse("proc.name=nginx and not fd.name exists").unwrap();
/// assert_eq!(e.to_condition(), "(proc.name = nginx and not fd.name exists)");
/// ```
pub fn parse(input: &str) -> Result<Expr> {
    Parser::new(input).parse()
}

/// Parses a field or a transformer expression alone (`%field` in outputs,
/// exception field names).
pub fn parse_field_or_transformer(input: &str) -> Result<Expr> {
    let mut p = Parser::new(input);
    p.partial = true;
    let e = p.field_or_transformer()?;
    if p.cur != p.src.len() {
        return Err(p.error(format!("unexpected token after '{}'", p.last_token)));
    }
    Ok(e)
}

/// The parser state; use [`parse`] unless you need a different depth limit
/// or partial parsing.
pub struct Parser<'a> {
    src: &'a [u8],
    cur: usize,
    line: u32,
    column: u32,
    depth: u32,
    max_depth: u32,
    /// Accept input with trailing text after a valid expression.
    pub partial: bool,
    last_token: String,
}

const STR_OPS: [&str; 12] = [
    "==",
    "=",
    "!=",
    "glob ",
    "iglob ",
    "contains ",
    "icontains ",
    "bcontains ",
    "startswith ",
    "bstartswith ",
    "endswith ",
    "regex ",
];
const NUM_OPS: [&str; 4] = ["<=", "<", ">=", ">"];
const LIST_OPS: [&str; 3] = ["intersects", "in", "pmatch"];
const MODIFIERS: [&str; 3] = ["oneof ", "anyof ", "allof "];

/// The operators libsinsp lists in its "expected a valid check operator"
/// message, in its order.
pub fn supported_operators() -> Vec<&'static str> {
    let mut v = vec!["exists"];
    v.extend(NUM_OPS);
    v.extend(STR_OPS.iter().map(|s| s.trim_end()));
    v.extend(LIST_OPS);
    v
}

fn quoted_list<'b>(items: impl IntoIterator<Item = &'b str>) -> String {
    items
        .into_iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn transformer_names() -> String {
    quoted_list(std::iter::once("val").chain(Transformer::FUNCTIONS.iter().map(|t| t.as_str())))
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | 0x08 | b'\r' | b'\n')
}

/// POSIX `[[:space:]]`.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic()
}

fn is_ident_rest(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl<'a> Parser<'a> {
    pub fn new(input: &'a str) -> Parser<'a> {
        Parser {
            src: input.as_bytes(),
            cur: 0,
            line: 1,
            column: 1,
            depth: 0,
            max_depth: DEFAULT_MAX_DEPTH,
            partial: false,
            last_token: String::new(),
        }
    }

    /// Sets the nesting limit (Falco's rules loader uses 1000).
    pub fn with_max_depth(mut self, max_depth: u32) -> Parser<'a> {
        self.max_depth = max_depth;
        self
    }

    /// The position reached (where an error was found).
    pub fn pos(&self) -> Pos {
        Pos {
            offset: u32::try_from(self.cur).unwrap_or(u32::MAX),
            line: self.line,
            column: self.column,
        }
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
            pos: self.pos(),
        }
    }

    pub fn parse(&mut self) -> Result<Expr> {
        if self.src.is_empty() {
            return Err(self.error("filter input string is empty"));
        }
        self.cur = 0;
        self.line = 1;
        self.column = 1;
        self.depth = 0;
        self.last_token.clear();
        let res = self.or_expr()?;
        if !self.partial && self.cur != self.src.len() {
            return Err(self.error(format!(
                "unexpected token after '{}', expecting 'or', 'and'",
                self.last_token
            )));
        }
        Ok(res)
    }

    /// Parses a field or transformer at the start of the input, leaving the
    /// rest (see [`Parser::pos`] for how far it went).
    pub fn parse_partial_field(&mut self) -> Result<Expr> {
        self.cur = 0;
        self.line = 1;
        self.column = 1;
        self.depth = 0;
        self.last_token.clear();
        self.field_or_transformer()
    }

    /// Runs `f` one nesting level deeper, failing past the limit.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.depth += 1;
        if self.depth >= self.max_depth {
            return Err(self.error(format!("exceeded max depth limit of {}", self.max_depth)));
        }
        let r = f(self);
        self.depth -= 1;
        r
    }

    // ---- lexing helpers -------------------------------------------------

    fn rest(&self) -> &'a [u8] {
        &self.src[self.cur..]
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.cur).copied()
    }

    fn advance(&mut self, n: usize) {
        for &c in &self.src[self.cur..self.cur + n] {
            self.column += 1;
            if c == b'\r' || c == b'\n' {
                self.column = 1;
                self.line += 1;
            }
        }
        self.cur += n;
    }

    /// Consumes `n` bytes as the last token.
    fn take(&mut self, n: usize) {
        self.last_token = String::from_utf8_lossy(&self.src[self.cur..self.cur + n]).into_owned();
        self.advance(n);
    }

    fn save(&self) -> (usize, u32, u32, String) {
        (self.cur, self.line, self.column, self.last_token.clone())
    }

    fn restore(&mut self, s: (usize, u32, u32, String)) {
        self.cur = s.0;
        self.line = s.1;
        self.column = s.2;
        self.last_token = s.3;
    }

    /// Blanks: space, tab, backspace, CR, LF. Does not touch the last token.
    fn lex_blank(&mut self) -> bool {
        let n = self.rest().iter().take_while(|&&c| is_blank(c)).count();
        self.advance(n);
        n > 0
    }

    fn lex_str(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s.as_bytes()) {
            self.take(s.len());
            true
        } else {
            false
        }
    }

    fn ident_len(s: &[u8]) -> usize {
        if s.first().is_some_and(|&c| is_ident_start(c)) {
            1 + s[1..].iter().take_while(|&&c| is_ident_rest(c)).count()
        } else {
            0
        }
    }

    fn lex_identifier(&mut self) -> bool {
        let n = Self::ident_len(self.rest());
        if n > 0 {
            self.take(n);
        }
        n > 0
    }

    /// `ident(.ident)+`, longest match.
    fn lex_field_name(&mut self) -> bool {
        let s = self.rest();
        let mut n = Self::ident_len(s);
        if n == 0 {
            return false;
        }
        let mut parts = 1;
        while s.get(n) == Some(&b'.') {
            let m = Self::ident_len(&s[n + 1..]);
            if m == 0 {
                break;
            }
            n += 1 + m;
            parts += 1;
        }
        if parts < 2 {
            return false;
        }
        self.take(n);
        true
    }

    fn lex_while(&mut self, ok: impl Fn(u8) -> bool) -> bool {
        let n = self.rest().iter().take_while(|&&c| ok(c)).count();
        if n > 0 {
            self.take(n);
        }
        n > 0
    }

    fn lex_field_arg_bare(&mut self) -> bool {
        self.lex_while(|c| !matches!(c, b']' | b'[' | b'"' | b'\'') && !is_space(c))
    }

    fn lex_bare_str(&mut self) -> bool {
        self.lex_while(|c| !matches!(c, b'(' | b')' | b'"' | b'\'' | b'=' | b',') && !is_space(c))
    }

    fn lex_hex_num(&mut self) -> bool {
        let s = self.rest();
        if s.len() > 2 && s[0] == b'0' && (s[1] == b'x' || s[1] == b'X') {
            let n = s[2..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
            if n > 0 {
                self.take(2 + n);
                return true;
            }
        }
        false
    }

    /// `[+-]?[0-9]+\.?[0-9]*([eE][+-][0-9]+)?`
    fn lex_num(&mut self) -> bool {
        let s = self.rest();
        let mut n = usize::from(matches!(s.first(), Some(b'+') | Some(b'-')));
        let digits = s[n..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return false;
        }
        n += digits;
        if s.get(n) == Some(&b'.') {
            n += 1;
        }
        n += s[n..].iter().take_while(|c| c.is_ascii_digit()).count();
        if matches!(s.get(n), Some(b'e') | Some(b'E'))
            && matches!(s.get(n + 1), Some(b'+') | Some(b'-'))
        {
            let exp = s[n + 2..].iter().take_while(|c| c.is_ascii_digit()).count();
            if exp > 0 {
                n += 2 + exp;
            }
        }
        self.take(n);
        true
    }

    /// A `'…'` or `"…"` string; the last token becomes its unescaped value.
    /// A quote preceded by a backslash does not close the string. An
    /// unterminated string is no match; a bad escape is an error (reported
    /// after the string was consumed, as libsinsp does).
    fn lex_quoted_str(&mut self) -> Result<bool> {
        let s = self.rest();
        let Some(&quote) = s.first() else {
            return Ok(false);
        };
        if quote != b'\'' && quote != b'"' {
            return Ok(false);
        }
        let mut prev = b'\\';
        for (i, &c) in s.iter().enumerate() {
            if c == 0 {
                break;
            }
            if c == quote && prev != b'\\' && i > 0 {
                let token = &s[..=i];
                self.advance(i + 1);
                let text = std::str::from_utf8(token).unwrap_or("");
                let v = escaping::unescape_str(text).map_err(|e| self.error(e.0))?;
                self.last_token = v;
                return Ok(true);
            }
            prev = c;
        }
        Ok(false)
    }

    /// Matches one operator of `ops`; a trailing space in the table means a
    /// blank must follow (it is consumed), and the token is stored trimmed.
    fn lex_operator(&mut self, ops: &[&str]) -> bool {
        for op in ops {
            match op.strip_suffix(' ') {
                None => {
                    if self.lex_str(op) {
                        return true;
                    }
                }
                Some(word) => {
                    let saved = self.save();
                    if self.lex_str(word) {
                        if self.lex_blank() {
                            return true;
                        }
                        self.restore(saved);
                    }
                }
            }
        }
        false
    }

    fn lex_transformer(&mut self) -> Option<Transformer> {
        for t in Transformer::FUNCTIONS {
            let name = t.as_str();
            let s = self.rest();
            if s.starts_with(name.as_bytes()) && s.get(name.len()) == Some(&b'(') {
                self.take(name.len() + 1);
                self.last_token.pop();
                return Some(t);
            }
        }
        None
    }

    /// `not` followed by at least one space character.
    fn lex_not_blank(&mut self) -> bool {
        let s = self.rest();
        if s.starts_with(b"not") {
            let n = s[3..].iter().take_while(|&&c| is_space(c)).count();
            if n > 0 {
                self.take(3 + n);
                return true;
            }
        }
        false
    }

    fn list_value_follows(&mut self) -> bool {
        if self.peek() == Some(b'(') {
            return true;
        }
        Self::ident_len(self.rest()) > 0
    }

    fn bool_keyword_follows(&self) -> bool {
        let s = self.rest();
        ["and", "or", "not"].iter().any(|kw| {
            s.starts_with(kw.as_bytes())
                && s.get(kw.len()).is_none_or(|c| !c.is_ascii_alphanumeric())
        })
    }

    // ---- grammar --------------------------------------------------------

    fn field_or_transformer(&mut self) -> Result<Expr> {
        self.nested(|p| {
            let pos = p.pos();
            if p.lex_field_name() {
                let name = p.last_token.clone();
                return p.field_remainder(name, pos);
            }
            if let Some(t) = p.lex_transformer() {
                p.lex_blank();
                return p.transformer_remainder(t, pos);
            }
            // (libsinsp's message has no closing quote.)
            Err(p.error(format!("unexpected token after '{}", p.last_token)))
        })
    }

    fn or_expr(&mut self) -> Result<Expr> {
        self.nested(|p| {
            let pos = p.pos();
            p.lex_blank();
            let mut children = vec![p.and_expr()?];
            p.lex_blank();
            while p.lex_str("or") {
                let child = if p.lex_blank() {
                    p.and_expr()?
                } else if p.lex_str("(") {
                    p.embedded_remainder()?
                } else {
                    return Err(p.error("expected blank or '(' after 'or'"));
                };
                children.push(child);
                p.lex_blank();
            }
            Ok(if children.len() > 1 {
                Expr::new(ExprKind::Or(children), pos)
            } else {
                children
                    .pop()
                    .unwrap_or_else(|| Expr::new(ExprKind::Or(vec![]), pos))
            })
        })
    }

    fn and_expr(&mut self) -> Result<Expr> {
        self.nested(|p| {
            let pos = p.pos();
            p.lex_blank();
            let mut children = vec![p.not_expr()?];
            p.lex_blank();
            while p.lex_str("and") {
                let child = if p.lex_blank() {
                    p.not_expr()?
                } else if p.lex_str("(") {
                    p.embedded_remainder()?
                } else {
                    return Err(p.error("expected blank or '(' after 'and'"));
                };
                children.push(child);
                p.lex_blank();
            }
            Ok(if children.len() > 1 {
                Expr::new(ExprKind::And(children), pos)
            } else {
                children
                    .pop()
                    .unwrap_or_else(|| Expr::new(ExprKind::And(vec![]), pos))
            })
        })
    }

    fn not_expr(&mut self) -> Result<Expr> {
        self.nested(|p| {
            let pos = p.pos();
            p.lex_blank();
            let mut negate = false;
            while p.lex_not_blank() {
                negate = !negate;
            }
            let child = if p.lex_str("not(") {
                negate = !negate;
                p.embedded_remainder()?
            } else {
                p.check()?
            };
            Ok(if negate {
                Expr::new(ExprKind::Not(Box::new(child)), pos)
            } else {
                child
            })
        })
    }

    /// After a `(`: an expression and its `)`.
    fn embedded_remainder(&mut self) -> Result<Expr> {
        self.nested(|p| {
            p.lex_blank();
            let child = p.or_expr()?;
            p.lex_blank();
            if !p.lex_str(")") {
                return Err(p.error("expected a ')' token"));
            }
            Ok(child)
        })
    }

    fn check(&mut self) -> Result<Expr> {
        self.nested(|p| {
            let pos = p.pos();
            p.lex_blank();
            if p.lex_str("(") {
                return p.embedded_remainder();
            }
            if p.lex_field_name() {
                let name = p.last_token.clone();
                let left = p.field_remainder(name, pos)?;
                return p.condition(left, pos);
            }
            if let Some(t) = p.lex_transformer() {
                p.lex_blank();
                let left = p.transformer_remainder(t, pos)?;
                return p.condition(left, pos);
            }
            if p.lex_identifier() {
                return Ok(Expr::new(ExprKind::Identifier(p.last_token.clone()), pos));
            }
            Err(p.error("expected a '(' token, a field check, or an identifier"))
        })
    }

    fn field_remainder(&mut self, name: String, pos: Pos) -> Result<Expr> {
        self.nested(|p| {
            let arg = p.optional_field_arg()?;
            Ok(Expr::new(ExprKind::Field { name, arg }, pos))
        })
    }

    fn optional_field_arg(&mut self) -> Result<Option<String>> {
        if !self.lex_str("[") {
            return Ok(None);
        }
        if !self.lex_quoted_str()? && !self.lex_field_arg_bare() {
            return Err(
                self.error("expected a valid field argument: a quoted string or a bare string")
            );
        }
        let arg = self.last_token.clone();
        if !self.lex_str("]") {
            return Err(self.error("expected a ']' token"));
        }
        Ok(Some(arg))
    }

    /// After `name(`: the arguments, `)` and an optional `[arg]`.
    fn transformer_remainder(&mut self, t: Transformer, pos: Pos) -> Result<Expr> {
        self.nested(|p| {
            p.lex_blank();
            let mut args = Vec::new();
            loop {
                let arg_pos = p.pos();
                args.push(p.transformer_arg(arg_pos)?);
                p.lex_blank();
                if !p.lex_str(",") {
                    break;
                }
            }
            p.lex_blank();
            if !p.lex_str(")") {
                return Err(p.error("expected a ')' token closing the transformer"));
            }
            let arg = p.optional_field_arg()?;
            Ok(Expr::new(
                ExprKind::Transform {
                    transformer: t,
                    args,
                    arg,
                },
                pos,
            ))
        })
    }

    fn transformer_arg(&mut self, pos: Pos) -> Result<Expr> {
        self.nested(|p| {
            p.lex_blank();
            if p.lex_hex_num() || p.lex_num() || p.lex_quoted_str()? {
                return Ok(Expr::new(ExprKind::Value(p.last_token.clone()), pos));
            }
            if p.lex_str("(") {
                return p.transformer_list(pos);
            }
            if let Some(t) = p.lex_transformer() {
                return p.transformer_remainder(t, pos);
            }
            if p.lex_field_name() {
                let name = p.last_token.clone();
                return p.field_remainder(name, pos);
            }
            Err(p.error(
                "expected field transformer argument: field, transformer, quoted string, number, or transformer list",
            ))
        })
    }

    /// After a `(` inside transformer arguments.
    fn transformer_list(&mut self, pos: Pos) -> Result<Expr> {
        let mut children = Vec::new();
        self.lex_blank();
        if self.lex_str(")") {
            return Ok(Expr::new(ExprKind::TransformerList(children), pos));
        }
        children.push(self.transformer_list_arg(pos)?);
        self.lex_blank();
        while self.lex_str(",") {
            self.lex_blank();
            children.push(self.transformer_list_arg(pos)?);
            self.lex_blank();
        }
        if !self.lex_str(")") {
            return Err(self.error("expected ')'"));
        }
        Ok(Expr::new(ExprKind::TransformerList(children), pos))
    }

    fn transformer_list_arg(&mut self, pos: Pos) -> Result<Expr> {
        if self.lex_field_name() {
            let name = self.last_token.clone();
            return self.field_remainder(name, pos);
        }
        if let Some(t) = self.lex_transformer() {
            self.lex_blank();
            return self.transformer_remainder(t, pos);
        }
        if self.lex_quoted_str()? || self.lex_hex_num() || self.lex_num() {
            return Ok(Expr::new(ExprKind::Value(self.last_token.clone()), pos));
        }
        Err(self.error(
            "expected transformer list argument: field, transformer, quoted string, or number",
        ))
    }

    fn condition(&mut self, left: Expr, pos: Pos) -> Result<Expr> {
        self.nested(|p| {
            p.lex_blank();
            if p.lex_str("exists") {
                return Ok(Expr::new(
                    ExprKind::Unary {
                        left: Box::new(left),
                        op: CmpOp::Exists,
                    },
                    pos,
                ));
            }
            p.lex_blank();
            let (op, right) = if p.lex_operator(&NUM_OPS) {
                let op = p.operator_token()?;
                (Operator::new(op), p.num_value_or_transformer()?)
            } else if p.lex_operator(&STR_OPS) {
                let op = p.operator_token()?;
                let had_blank = op.as_str().as_bytes()[0].is_ascii_alphabetic() || p.lex_blank();
                let saved = p.save();
                if had_blank
                    && p.lex_operator(&MODIFIERS)
                    && p.list_value_follows()
                    && !p.bool_keyword_follows()
                {
                    let modifier = Modifier::parse(&p.last_token);
                    (Operator { op, modifier }, p.list_value()?)
                } else {
                    p.restore(saved);
                    (Operator::new(op), p.str_value_or_transformer(false)?)
                }
            } else if p.lex_operator(&LIST_OPS) {
                let op = p.operator_token()?;
                (Operator::new(op), p.list_value_or_transformer()?)
            } else {
                return Err(p.error(format!(
                    "expected a valid check operator: one of {}",
                    quoted_list(supported_operators())
                )));
            };
            Ok(Expr::new(
                ExprKind::Binary {
                    left: Box::new(left),
                    op,
                    right: Box::new(right),
                },
                pos,
            ))
        })
    }

    fn operator_token(&self) -> Result<CmpOp> {
        CmpOp::parse(&self.last_token)
            .ok_or_else(|| self.error(format!("unknown operator '{}'", self.last_token)))
    }

    fn num_value_or_transformer(&mut self) -> Result<Expr> {
        self.nested(|p| {
            p.lex_blank();
            let pos = p.pos();
            if let Some(t) = p.try_transformer_or_val()? {
                return Ok(t);
            }
            if p.lex_hex_num() || p.lex_num() {
                return Ok(Expr::new(ExprKind::Value(p.last_token.clone()), pos));
            }
            Err(p.error(format!(
                "expected a number value or a field with a valid transformer: {}",
                transformer_names()
            )))
        })
    }

    fn str_value_or_transformer(&mut self, no_transformer: bool) -> Result<Expr> {
        self.nested(|p| {
            p.lex_blank();
            let pos = p.pos();
            if !no_transformer {
                if let Some(t) = p.try_transformer_or_val()? {
                    return Ok(t);
                }
            }
            if p.lex_quoted_str()? || p.lex_bare_str() {
                return Ok(Expr::new(ExprKind::Value(p.last_token.clone()), pos));
            }
            if no_transformer {
                return Err(p.error("expected a string value"));
            }
            Err(p.error(format!(
                "expected a string value or a field with a valid transformer: {}",
                transformer_names()
            )))
        })
    }

    /// A `( … )` list of string values, if one starts here.
    fn try_list(&mut self) -> Result<Option<Expr>> {
        let pos = self.pos();
        if !self.lex_str("(") {
            return Ok(None);
        }
        let mut values = Vec::new();
        self.lex_blank();
        // A first element that does not parse means an empty list (the
        // closing parenthesis is then required right away).
        if let Ok(first) = self.str_value_or_transformer(true) {
            values.push(value_text(first));
            self.lex_blank();
            while self.lex_str(",") {
                let v = self.str_value_or_transformer(true)?;
                values.push(value_text(v));
                self.lex_blank();
            }
        }
        if !self.lex_str(")") {
            return Err(self.error("expected a ')' token"));
        }
        Ok(Some(Expr::new(ExprKind::List(values), pos)))
    }

    fn list_value(&mut self) -> Result<Expr> {
        self.nested(|p| {
            p.lex_blank();
            let pos = p.pos();
            if let Some(l) = p.try_list()? {
                return Ok(l);
            }
            if p.lex_identifier() {
                return Ok(Expr::new(ExprKind::Value(p.last_token.clone()), pos));
            }
            Err(p.error("expected a list or an identifier"))
        })
    }

    fn list_value_or_transformer(&mut self) -> Result<Expr> {
        self.nested(|p| {
            p.lex_blank();
            let pos = p.pos();
            if let Some(l) = p.try_list()? {
                return Ok(l);
            }
            if let Some(t) = p.try_transformer_or_val()? {
                return Ok(t);
            }
            if p.lex_identifier() {
                return Ok(Expr::new(ExprKind::Value(p.last_token.clone()), pos));
            }
            Err(p.error(format!(
                "expected a list, an identifier, or a field with a valid transformer: {}",
                transformer_names()
            )))
        })
    }

    fn try_transformer_or_val(&mut self) -> Result<Option<Expr>> {
        self.nested(|p| {
            p.lex_blank();
            let pos = p.pos();
            if p.lex_str("val(") {
                p.lex_blank();
                let field_pos = p.pos();
                if !p.lex_field_name() {
                    return Err(p.error("expected a field within 'val' transformer"));
                }
                let name = p.last_token.clone();
                let child = p.field_remainder(name, field_pos)?;
                p.lex_blank();
                if !p.lex_str(")") {
                    return Err(p.error("expected a ')' token closing the transformer"));
                }
                let arg = p.optional_field_arg()?;
                return Ok(Some(Expr::new(
                    ExprKind::Transform {
                        transformer: Transformer::Val,
                        args: vec![child],
                        arg,
                    },
                    pos,
                )));
            }
            if let Some(t) = p.lex_transformer() {
                p.lex_blank();
                return p.transformer_remainder(t, pos).map(Some);
            }
            Ok(None)
        })
    }
}

fn value_text(e: Expr) -> String {
    match e.kind {
        ExprKind::Value(v) => v,
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .to_condition()
    }

    #[test]
    fn precedence_and_printing() {
        assert_eq!(ok("a or b and c"), "(a or (b and c))");
        assert_eq!(ok("not a and b"), "(not a and b)");
        assert_eq!(ok("not not a"), "a");
        assert_eq!(ok("proc.name in (a, 'b c')"), "proc.name in (a, \"b c\")");
        assert_eq!(
            ok("proc.name startswith oneof (a,b)"),
            "proc.name startswith oneof (a, b)"
        );
        assert_eq!(ok("fd.name=val(proc.name)"), "fd.name = val(proc.name)");
        assert_eq!(
            ok("getopt(proc.args, \"nt:\")[t] = v"),
            "getopt(proc.args,nt:)[t] = v"
        );
    }

    #[test]
    fn errors_have_positions() {
        let e = parse("a and").unwrap_err();
        assert_eq!(e.message, "expected blank or '(' after 'and'");
        let e = parse("evt.arg[] = 1").unwrap_err();
        assert_eq!((e.pos.line, e.pos.column), (1, 9));
        assert!(parse("").is_err());
    }

    #[test]
    fn depth_is_limited() {
        let deep = "(".repeat(100_000);
        let e = parse(&deep).unwrap_err();
        assert_eq!(e.message, "exceeded max depth limit of 100");
        assert!(parse("((((((((((a))))))))))").is_ok());
    }
}
