//! `--list[=SOURCE]` (fields, with `-N` and `--format`), `-L` / `-l RULE`
//! (rules of the loaded files) and `--rule-schema`.

use std::path::Path;

use peregrine_rules::describe;
use peregrine_rules::fields::listing::{list_fields, ListFormat};
use peregrine_rules::loader::{schema, Loader};
use peregrine_rules::FieldRegistry;

use crate::cli::FalcoArgs;

use super::list_events::OutputFormat;
use super::validate::json_output;

/// The rules files to load: `-r` paths (directories give their `.yml` /
/// `.yaml` files in name order), else the defaults. The config module will
/// replace the defaults with `rules_files` from the config.
pub(crate) fn rules_files(args: &FalcoArgs) -> Vec<String> {
    let paths: Vec<String> = if args.rules.is_empty() {
        ["./rules", "/etc/falco/falco_rules.yaml"]
            .iter()
            .filter(|p| Path::new(p).exists())
            .map(|p| p.to_string())
            .collect()
    } else {
        args.rules.clone()
    };
    let mut out = Vec::new();
    for p in paths {
        let path = Path::new(&p);
        if path.is_dir() {
            let mut entries: Vec<String> = std::fs::read_dir(path)
                .map(|rd| {
                    rd.filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|f| {
                            f.is_file()
                                && matches!(
                                    f.extension().and_then(|e| e.to_str()),
                                    Some("yml" | "yaml")
                                )
                        })
                        .map(|f| f.to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            entries.sort();
            out.extend(entries);
        } else {
            out.push(p);
        }
    }
    out
}

pub fn fields(args: &FalcoArgs, format: OutputFormat) -> u8 {
    let registries = vec![FieldRegistry::syscall(), FieldRegistry::k8s_audit()];
    let source = args.list_fields.as_deref().filter(|s| !s.is_empty());
    if let Some(s) = source {
        if !registries.iter().any(|r| r.source() == s) {
            eprintln!("Error: Value for --list must be a valid source type");
            return 1;
        }
    }
    let format = match format {
        OutputFormat::Text => ListFormat::Text,
        OutputFormat::Markdown => ListFormat::Markdown,
        OutputFormat::Json => ListFormat::Json,
    };
    let code = super::print_stdout(&list_fields(
        &registries,
        source,
        args.verbose,
        args.names_only,
        format,
    ));
    // stdout stays Falco's listing; what the engine cannot extract yet is
    // said beside it.
    if source.is_none_or(|s| s == "syscall") {
        let missing = unsupported_syscall_fields();
        if !missing.is_empty() {
            eprintln!(
                "peregrine: {} listed Falco field(s) are not extracted by Peregrine yet: {}",
                missing.len(),
                missing.join(", ")
            );
        }
    }
    code
}

/// Falco's syscall-source fields (listed above) that Peregrine's engine
/// does not extract yet.
pub fn unsupported_syscall_fields() -> Vec<&'static str> {
    let supported: std::collections::HashSet<&str> =
        peregrine_engine::fields::supported_fields().collect();
    FieldRegistry::syscall()
        .classes()
        .filter(|c| !c.hidden)
        .flat_map(|c| c.fields.iter())
        .filter(|f| {
            !f.has(peregrine_rules::fields::flags::PRINT_ONLY)
                && !f.has(peregrine_rules::fields::flags::TABLE_ONLY)
                && !f.is_deprecated()
        })
        .map(|f| f.name)
        .filter(|n| !supported.contains(n))
        .collect()
}

pub fn rules(args: &FalcoArgs) -> u8 {
    let files = rules_files(args);
    if files.is_empty() {
        eprintln!(
            "Error: You must specify at least one rules file/directory via -r or a rules_file entry in falco.yaml"
        );
        return 1;
    }
    let mut loader = Loader::new();
    for f in &files {
        let res = loader.load_file(f).clone();
        if !res.successful {
            eprintln!("Error: {}", res.verbose(loader.contents()));
            return 1;
        }
        if res.has_warnings() {
            eprintln!("{}", res.verbose(loader.contents()));
        }
    }
    if let Err(e) = loader.check_plugin_requirements(&[]) {
        eprintln!("Error: {e}");
        return 1;
    }
    let Some(rs) = loader.ruleset() else {
        eprintln!("Error: rules must be loaded before describing them");
        return 1;
    };
    match describe::describe(rs, args.describe_rule.as_deref()) {
        Ok(d) => {
            if json_output(args) {
                println!("{d}");
            } else {
                print!("{}", describe::describe_as_text(&d));
            }
            0
        }
        Err(e) => {
            eprintln!("Error: {e}");
            1
        }
    }
}

/// `--rule-schema`: the JSON Schema of rules files.
pub fn rule_schema() -> u8 {
    match serde_json::from_str::<serde_json::Value>(schema::RULE_SCHEMA) {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            0
        }
        Err(e) => {
            eprintln!("Error: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use peregrine_engine::cond::FieldRef;
    use peregrine_rules::fields::{flags, FieldRegistry};

    /// Every listed syscall field resolves in the engine, with the argument
    /// its listing says it takes.
    #[test]
    fn every_listed_field_resolves_in_the_engine() {
        assert_eq!(super::unsupported_syscall_fields(), Vec::<&str>::new());
        let mut checked = 0;
        for f in FieldRegistry::syscall()
            .classes()
            .filter(|c| !c.hidden)
            .flat_map(|c| c.fields.iter())
            .filter(|f| !f.has(flags::PRINT_ONLY) && !f.has(flags::TABLE_ONLY))
        {
            let arg = if !f.has(flags::ARG_REQUIRED) {
                None
            } else if f.has(flags::ARG_KEY) && !f.has(flags::ARG_INDEX) {
                Some("key".to_string())
            } else {
                Some("1".to_string())
            };
            let r = FieldRef {
                name: f.name.to_string(),
                arg,
                transformers: Vec::new(),
            };
            if let Err(e) = peregrine_engine::fields::resolve(&r) {
                panic!("{}: {e}", f.name);
            }
            checked += 1;
        }
        assert!(checked > 250, "{checked} fields");
    }
}
