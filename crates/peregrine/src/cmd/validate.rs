//! `peregrine -V FILE [-V FILE]...`: validate rules files as one ruleset
//! loaded in order, printing Falco's summary text or, with
//! `-o json_output=true`, Falco's validation JSON.

use peregrine::logger;
use peregrine_rules::describe;
use peregrine_rules::loader::{result::sort_keys, Loader};
use serde_json::{json, Value};

use crate::cli::FalcoArgs;

/// The value of `-o KEY=VALUE` (last one wins). A stand-in until the
/// config module owns `-o`.
pub(crate) fn option<'a>(args: &'a FalcoArgs, key: &str) -> Option<&'a str> {
    args.options.iter().rev().find_map(|o| {
        o.split_once('=')
            .filter(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim())
    })
}

/// Whether JSON is asked for: `-o json_output=…` (yaml-cpp's true
/// spellings), else the config file's `json_output` (`-c`, else the default
/// locations), as Falco reads it before `-V`, `-L` and `--version`.
pub(crate) fn json_output(args: &FalcoArgs) -> bool {
    if let Some(v) = option(args, "json_output") {
        return matches!(
            v,
            "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y"
        );
    }
    let path = args
        .config
        .as_ref()
        .map(std::path::PathBuf::from)
        .or_else(crate::config::default_config_path);
    path.and_then(|p| {
        crate::config::load(&crate::config::LoadOptions {
            config_path: Some(p),
            options: args.options.clone(),
        })
        .ok()
    })
    .is_some_and(|l| l.config.outputs.format.json_output)
}

pub fn run(args: &FalcoArgs) -> u8 {
    // As Falco: the config is loaded (and says so in the log) first.
    let json = match crate::app::load_config(args) {
        Ok(loaded) => loaded.config.outputs.format.json_output,
        Err(e) => {
            eprintln!("Error: {e}");
            return 1;
        }
    };
    logger::info("Validating rules file(s):");
    for f in &args.validate {
        logger::info(&format!("   {f}"));
    }
    let mut loader = Loader::new();
    let mut results: Vec<Value> = Vec::new();
    let mut summary = String::new();
    let mut successful = true;
    for file in &args.validate {
        let res = loader.load_file(file).clone();
        if res
            .errors
            .iter()
            .any(|e| e.code.code() == "LOAD_ERR_FILE_READ")
        {
            eprintln!("Error: {}", res.errors[0].message);
            return 1;
        }
        if let Err(e) = loader.check_plugin_requirements(&[]) {
            eprintln!("Error: {e}");
            return 1;
        }
        successful &= res.successful;
        if json {
            results.push(res.as_json(loader.contents()));
        }
        if !summary.is_empty() {
            summary.push('\n');
        }
        if !res.successful || !res.has_warnings() {
            summary.push_str(&res.verbose(loader.contents()));
        } else {
            summary.push_str(&format!("{file}: Ok, with warnings"));
            logger::warning(&res.verbose(loader.contents()));
        }
    }
    let describe_res = if successful && (args.list_rules || args.describe_rule.is_some()) {
        loader
            .ruleset()
            .and_then(|rs| describe::describe(rs, args.describe_rule.as_deref()).ok())
    } else {
        None
    };
    if json {
        let mut out = json!({ "falco_load_results": results });
        if let Some(d) = &describe_res {
            out["falco_describe_results"] = d.clone();
        }
        println!("{}", sort_keys(out));
    } else {
        println!("{summary}");
        if let Some(d) = &describe_res {
            println!();
            print!("{}", describe::describe_as_text(d));
        }
    }
    if successful {
        0
    } else {
        eprintln!("Error: {summary}");
        1
    }
}
