//! Loads rules files in order and prints Falco's verbose result for each.
fn main() {
    let mut loader = peregrine_rules::loader::Loader::new();
    let t = std::time::Instant::now();
    for path in std::env::args().skip(1) {
        loader.load_file(&path);
    }
    let el = t.elapsed();
    for r in loader.results() {
        println!("{}", r.verbose(loader.contents()));
    }
    if let Some(rs) = loader.ruleset() {
        println!(
            "{} rules, {} enabled, loaded in {:?}",
            rs.rules.len(),
            rs.enabled_count(0),
            el
        );
    }
}
