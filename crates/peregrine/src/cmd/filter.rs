//! `peregrine filter parse 'EXPR'`.

pub fn parse(_expression: &str) -> u8 {
    super::not_yet("filter parse")
}
