//! Helpers shared by the conformance tests: TSV reading and unescaping.
#![allow(dead_code)]

use std::path::PathBuf;

/// Rows of a conformance TSV (header skipped), or `None` when the data is
/// absent outside CI.
pub fn tsv(rel: &str) -> Option<Vec<Vec<String>>> {
    let path: PathBuf = peregrine_testkit::conformance(rel)?;
    let text = std::fs::read_to_string(&path).expect("read tsv");
    Some(
        text.lines()
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect(),
    )
}

/// Decodes `\\`, `\t`, `\n`, `\r` as the filters README describes.
pub fn unescape_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

pub fn col(row: &[String], i: usize) -> &str {
    row.get(i).map(String::as_str).unwrap_or("")
}
