//! The Falco-compatible entry: no subcommand, Falco's flags. Dispatches to
//! validation, listings, replay or live detection.

use crate::cli::FalcoArgs;
use crate::config::EngineKind;

pub fn run(args: &FalcoArgs) -> u8 {
    if args.version {
        println!("Peregrine version: {}", env!("CARGO_PKG_VERSION"));
        println!(
            "Engine:            {}",
            peregrine_rules::loader::ENGINE_VERSION
        );
        return 0;
    }
    if args.rule_schema {
        return super::list::rule_schema();
    }
    if args.config_schema {
        return super::config_schema::run();
    }
    if !args.validate.is_empty() {
        return super::validate::run(args);
    }
    if args.list_fields.is_some() {
        return super::list::fields(args);
    }
    if args.list_rules || args.describe_rule.is_some() {
        return super::list::rules(args);
    }
    let loaded = match crate::app::load_config(args) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("peregrine: {e}");
            return 1;
        }
    };
    if args.capture_file.is_some() || loaded.config.engine.kind == EngineKind::Replay {
        return super::replay::run(args, &loaded);
    }
    super::live::run(args, &loaded)
}
