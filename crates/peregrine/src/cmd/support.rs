//! `--support`: one JSON document for bug reports, in Falco's shape —
//! `system_info` (uname), `version`, `engine_info`, `cmdline`, `config`
//! (the merged config as a one-line YAML flow string, as Falco's
//! yaml-cpp dump writes it) and `rules_files` (name, SHA-256 and content of
//! each rules file that would be loaded). Keys are sorted as nlohmann sorts them.

use serde_json::{json, Value};

use crate::app;
use crate::cli::FalcoArgs;
use crate::config::{CNode, Loaded, Value as CValue};
use crate::versions;

fn uname() -> Result<Value, String> {
    // SAFETY: utsname is plain old data; uname fills it or fails.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return Err(format!(
            "Could not get system info: {}",
            std::io::Error::last_os_error()
        ));
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|c| **c != 0)
            .map(|c| *c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    Ok(json!({
        "machine": field(&u.machine),
        "nodename": field(&u.nodename),
        "release": field(&u.release),
        "sysname": field(&u.sysname),
        "version": field(&u.version),
    }))
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The document as yaml-cpp emits it with DoubleQuoted, Flow and LowerNull.
pub fn flow_yaml(n: &CNode) -> String {
    match &n.value {
        _ if n.is_null() => "null".into(),
        CValue::Scalar { text, .. } => quoted(text),
        CValue::Seq(items) => {
            let parts: Vec<String> = items.iter().map(flow_yaml).collect();
            format!("[{}]", parts.join(", "))
        }
        CValue::Map(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}: {}", quoted(k), flow_yaml(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

/// Builds the `--support` document.
pub fn document(args: &FalcoArgs, loaded: &Loaded) -> Result<Value, String> {
    let container = loaded.config.plugins.iter().any(|p| p.name == "container");
    let mut rules_files = Vec::new();
    for name in app::rules_paths(args, &loaded.config) {
        let bytes = std::fs::read(&name).map_err(|e| format!("Could not read {name}: {e}"))?;
        rules_files.push(json!({
            "name": name,
            "sha256": peregrine_metrics::sha256::sha256_hex(&bytes),
            "variants": [{ "content": String::from_utf8_lossy(&bytes) }],
        }));
    }
    let cmdline: Vec<String> = std::env::args().collect();
    Ok(json!({
        "cmdline": cmdline.join(" "),
        "config": flow_yaml(&loaded.document),
        "engine_info": versions::info_json(container),
        "rules_files": rules_files,
        "system_info": uname()?,
        "version": versions::PEREGRINE_VERSION,
    }))
}

pub fn run(args: &FalcoArgs, loaded: &Loaded) -> u8 {
    match document(args, loaded) {
        Ok(doc) => super::print_stdout(&format!("{doc}\n")),
        Err(e) => {
            eprintln!("peregrine: {e}");
            1
        }
    }
}
