//! Replay a capture through the rules (`-e FILE`, or
//! `-o engine.kind=replay -o engine.replay.capture_file=FILE`): alerts as
//! they match, then Falco's summary of events and rule counts.

use std::io::{self, BufWriter, Write};
use std::sync::Arc;

use peregrine_alert::{Alert, Priority};
use peregrine_engine::{CaptureContainers, Engine, EngineConfig, Pipeline};
use peregrine_scap::ScapReader;
use peregrine_state::StateConfig;

use crate::cli::FalcoArgs;
use peregrine::bridge;

use super::list::rules_files;
use super::validate::{json_output, option};

fn hostname() -> Arc<str> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
        .into()
}

fn priority_threshold(args: &FalcoArgs) -> Priority {
    option(args, "priority")
        .and_then(|p| p.parse().ok())
        .unwrap_or(Priority::Debug)
}

/// Falco's `HH:MM:SS.nnnnnnnnn: Priority output` line (local time).
fn text_line(a: &Alert) -> String {
    let mut s = String::with_capacity(a.output.len() + 40);
    peregrine_event::time::write_time_of_day(&mut s, a.time_ns);
    s.push_str(": ");
    s.push_str(a.priority.as_str());
    s.push(' ');
    s.push_str(&a.output);
    s
}

/// Falco's JSON alert (keys sorted, as Falco's JSON library writes them).
/// The outputs crate owns the full set of `json_*` options.
fn json_line(a: &Alert) -> String {
    use peregrine_alert::FieldValue;
    use serde_json::{Map, Value};
    fn val(v: &FieldValue) -> Value {
        match v {
            FieldValue::Null => Value::Null,
            FieldValue::Bool(b) => Value::Bool(*b),
            FieldValue::I64(i) => Value::from(*i),
            FieldValue::U64(u) => Value::from(*u),
            FieldValue::F64(f) => Value::from(*f),
            FieldValue::Str(s) => Value::String(s.clone()),
            FieldValue::List(l) => Value::Array(l.iter().map(val).collect()),
        }
    }
    let mut fields: Vec<&(String, FieldValue)> = a.output_fields.iter().collect();
    fields.sort_by(|x, y| x.0.cmp(&y.0));
    let mut of = Map::new();
    for (k, v) in fields {
        of.insert(k.clone(), val(v));
    }
    let secs = (a.time_ns / 1_000_000_000) as i64;
    let (y, mo, d, h, mi, se) = peregrine_event::time::civil(secs);
    let time = format!(
        "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}.{:09}Z",
        a.time_ns % 1_000_000_000
    );
    let mut m = Map::new();
    m.insert("hostname".into(), Value::String(a.hostname.to_string()));
    m.insert("output".into(), Value::String(a.output.clone()));
    m.insert("output_fields".into(), Value::Object(of));
    m.insert("priority".into(), Value::String(a.priority.as_str().into()));
    m.insert("rule".into(), Value::String(a.rule.to_string()));
    m.insert("source".into(), Value::String(a.source.to_string()));
    m.insert(
        "tags".into(),
        Value::Array(a.tags.iter().map(|t| Value::String(t.clone())).collect()),
    );
    m.insert("time".into(), Value::String(time));
    Value::Object(m).to_string()
}

pub fn run(args: &FalcoArgs) -> u8 {
    let capture = match args
        .capture_file
        .clone()
        .or_else(|| option(args, "engine.replay.capture_file").map(str::to_string))
    {
        Some(c) => c,
        None => {
            eprintln!("peregrine: no capture file to replay");
            return 1;
        }
    };
    let files = rules_files(args);
    let rules = match bridge::load_ruleset(&files) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("peregrine: {e}");
            return 1;
        }
    };
    let inputs = match bridge::rule_inputs(&rules, 0) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("peregrine: {e}");
            return 1;
        }
    };
    let config = EngineConfig {
        match_all: option(args, "rule_matching") == Some("all"),
        min_priority: priority_threshold(args),
        hostname: hostname(),
    };
    let engine = match Engine::new(inputs, config) {
        Ok(e) => e,
        Err(errs) => {
            for e in errs {
                eprintln!("peregrine: rule '{}': {}", e.rule, e.message);
            }
            return 1;
        }
    };
    let mut reader = match ScapReader::open(&capture) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("peregrine: {e}");
            return 1;
        }
    };
    let mut pipeline = Pipeline::new(engine, reader.tables(), StateConfig::default());
    pipeline.containers = Box::new(CaptureContainers::default());
    let json = json_output(args);
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut by_priority = [0u64; 8];
    let mut total = 0u64;
    let mut on_alert = |a: Alert| {
        total += 1;
        by_priority[a.priority as usize] += 1;
        let line = if json { json_line(&a) } else { text_line(&a) };
        let _ = writeln!(out, "{line}");
    };
    loop {
        match reader.next_event() {
            Ok(Some(ev)) => pipeline.on_event(&ev, &mut on_alert),
            Ok(None) => break,
            Err(e) => {
                eprintln!("peregrine: {e}");
                return 1;
            }
        }
    }
    let _ = out.flush();
    drop(out);
    // Falco's summary.
    println!("Events detected: {total}");
    println!("Rule counts by severity:");
    for p in Priority::ALL {
        let n = by_priority[p as usize];
        if n > 0 {
            let name = match p {
                Priority::Informational => "INFO".to_string(),
                other => other.as_str().to_uppercase(),
            };
            println!("   {name}: {n}");
        }
    }
    println!("Triggered rules by rule name:");
    for c in pipeline.engine.counts() {
        if c.matches > 0 {
            println!("   {}: {}", c.rule, c.matches);
        }
    }
    0
}
