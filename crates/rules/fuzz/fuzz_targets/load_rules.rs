//! The rules loader on arbitrary YAML: never panics; a successful load
//! yields a describable ruleset. A fixed base file loads first so that the
//! input can reference, append to and override real items.
#![no_main]

use libfuzzer_sys::fuzz_target;
use peregrine_rules::loader::Loader;

const BASE: &str = "
- list: shells
  items: [bash, sh, 'a b']
- macro: spawned
  condition: evt.type in (execve, execveat)
- macro: never_true
  condition: (evt.num=0)
- rule: base rule
  desc: d
  condition: spawned and proc.name in (shells) and not never_true
  output: spawned %proc.name %proc.aname[2] %container.id
  priority: WARNING
  tags: [process]
  exceptions:
    - name: e
      fields: [proc.name, fd.name]
      comps: [=, startswith]
      values: [[x, /tmp]]
";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut loader = Loader::new();
    loader.load("base.yaml", BASE);
    let res = loader.load("fuzz.yaml", text).clone();
    let _ = res.as_json(loader.contents());
    let _ = res.verbose(loader.contents());
    if let Some(rs) = loader.ruleset() {
        let _ = peregrine_rules::describe::describe(rs, None);
    }
});
