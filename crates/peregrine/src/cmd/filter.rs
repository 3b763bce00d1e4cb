//! `peregrine filter parse 'EXPR'`: parse without resolving fields and print
//! the AST in its normalized one-line form, or the error with a caret.

pub fn parse(expression: &str) -> u8 {
    match peregrine_rules::parse(expression) {
        Ok(ast) => {
            println!("{}", ast.to_condition());
            0
        }
        Err(e) => {
            eprint!("{}", render_error(expression, &e));
            1
        }
    }
}

/// `error at LINE:COL: MESSAGE`, then the offending line of the expression
/// and a caret under the column.
pub fn render_error(expression: &str, e: &peregrine_rules::ParseError) -> String {
    let mut out = format!("error at {}:{}: {}\n", e.pos.line, e.pos.column, e.message);
    let line_no = e.pos.line.max(1) as usize;
    let line = expression
        .split(['\n', '\r'])
        .nth(line_no - 1)
        .unwrap_or("");
    // Tabs stay tabs in the caret line so the caret lines up under them.
    let col = (e.pos.column.max(1) as usize - 1).min(line.len());
    let pad: String = line
        .bytes()
        .take(col)
        .map(|b| if b == b'\t' { '\t' } else { ' ' })
        .collect();
    out.push_str(line);
    out.push('\n');
    out.push_str(&pad);
    out.push_str("^\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_points_at_the_column() {
        let e = peregrine_rules::parse("proc.name = x and").unwrap_err();
        let s = render_error("proc.name = x and", &e);
        assert_eq!(
            s,
            "error at 1:18: expected blank or '(' after 'and'\nproc.name = x and\n                 ^\n"
        );
    }
}
