//! Every key Peregrine reads, with its type, its meaning and whether it has
//! an effect: Falco 0.44.1's falco.yaml key for key (its config JSON Schema),
//! plus Peregrine's extensions. The same table drives unknown-key warnings,
//! type errors, `--config-schema` and the startup notice of keys without
//! effect.

use serde_json::{json, Map, Value as Json};

#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Bool,
    Int,
    Num,
    Str,
    Any,
    Enum(&'static [&'static str]),
    Seq(&'static Ty),
    /// A mapping with exactly these keys.
    Map(&'static [Field]),
    /// A mapping of any keys to values of this type.
    Dict(&'static Ty),
    /// `config_files` items: a path, or `{path, strategy}`.
    Include,
    /// `append_output[].extra_fields` items: a field name, or `{name: format}`.
    ExtraField,
    /// `plugins[].init_config`: a mapping or a string.
    InitConfig,
}

/// What a key does in Peregrine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Used,
    /// Accepted (Falco has it) but it changes nothing here; why.
    Ignored(&'static str),
    /// Peregrine's own key (Falco would warn about it).
    Extension,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub key: &'static str,
    pub ty: Ty,
    pub doc: &'static str,
    pub effect: Effect,
}

const fn f(key: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        key,
        ty,
        doc,
        effect: Effect::Used,
    }
}

const fn noop(key: &'static str, ty: Ty, doc: &'static str, why: &'static str) -> Field {
    Field {
        key,
        ty,
        doc,
        effect: Effect::Ignored(why),
    }
}

const fn ext(key: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field {
        key,
        ty,
        doc,
        effect: Effect::Extension,
    }
}

const STRS: Ty = Ty::Seq(&Ty::Str);

const ENABLED: &[Field] = &[f("enabled", Ty::Bool, "Turn this output on.")];

const FILE_OUTPUT: &[Field] = &[
    f("enabled", Ty::Bool, "Append alerts to a file."),
    f(
        "keep_alive",
        Ty::Bool,
        "Keep the file open (else it is reopened for each batch, which suits log rotation).",
    ),
    f(
        "filename",
        Ty::Str,
        "File to append to (created if missing; its directory must exist).",
    ),
];

const SYSLOG_OUTPUT: &[Field] = &[
    f(
        "enabled",
        Ty::Bool,
        "Send alerts to the local syslog socket; the alert priority is the syslog severity.",
    ),
    ext("socket_path", Ty::Str, "Syslog socket (default /dev/log)."),
    ext(
        "facility",
        Ty::Str,
        "Syslog facility: user (default, as Falco), daemon, local0..local7, ...",
    ),
    ext(
        "ident",
        Ty::Str,
        "Tag before the message (default: the program's name, as glibc's syslog).",
    ),
];

const PROGRAM_OUTPUT: &[Field] = &[
    f(
        "enabled",
        Ty::Bool,
        "Pipe alerts into a command run with sh -c.",
    ),
    f(
        "keep_alive",
        Ty::Bool,
        "One long-lived process reads every alert (else one run per alert).",
    ),
    f("program", Ty::Str, "The command line."),
];

const HTTP_OUTPUT: &[Field] = &[
    f("enabled", Ty::Bool, "POST each alert to url (falcosidekick reads Falco's JSON at /)."),
    f("url", Ty::Str, "http:// or https:// URL."),
    f("user_agent", Ty::Str, "User-Agent header (default falcosecurity/falco)."),
    f("insecure", Ty::Bool, "Do not verify the server's certificate."),
    f("ca_cert", Ty::Str, "PEM file of the CA to trust."),
    f("ca_bundle", Ty::Str, "PEM bundle of CAs to trust (used when ca_cert is empty)."),
    f("ca_path", Ty::Str, "Directory of PEM CA files (used when both above are empty; Mozilla's roots if it has none)."),
    f("mtls", Ty::Bool, "Present client_cert/client_key (mutual TLS)."),
    f("client_cert", Ty::Str, "Client certificate (PEM) for mtls."),
    f("client_key", Ty::Str, "Client private key (PEM) for mtls."),
    f("echo", Ty::Bool, "Print the receiver's responses on stdout."),
    f("compress_uploads", Ty::Bool, "gzip the body (Content-Encoding: gzip; falcosidekick does not decode it)."),
    noop("keep_alive", Ty::Bool, "TCP keep-alive.", "connections are always pooled and kept alive"),
    noop("max_consecutive_timeouts", Ty::Int, "Falco: retries on timeout before dropping the alert.", "Peregrine retries transient failures with backoff until delivered or shutdown"),
    ext("headers", Ty::Dict(&Ty::Str), "Extra request headers (name: value)."),
    ext("timeout_ms", Ty::Int, "Whole-request timeout in ms (default 10000)."),
    ext("retry_backoff_initial_ms", Ty::Int, "First retry delay in ms (default 100); doubles per retry."),
    ext("retry_backoff_max_ms", Ty::Int, "Longest retry delay in ms (default 5000)."),
];

const KMOD: &[Field] = &[
    f("buf_size_preset", Ty::Int, "Ring buffer size preset."),
    f(
        "drop_failed_exit",
        Ty::Bool,
        "Drop exit events of failed syscalls (negative return) in the kernel.",
    ),
];

const MODERN_EBPF: &[Field] = &[
    f(
        "cpus_for_each_buffer",
        Ty::Int,
        "CPUs sharing one ring buffer.",
    ),
    f(
        "buf_size_preset",
        Ty::Int,
        "Ring buffer size preset (0-10; 4 = 8 MiB).",
    ),
    f(
        "drop_failed_exit",
        Ty::Bool,
        "Drop exit events of failed syscalls (negative return) in the kernel.",
    ),
    noop(
        "disable_iterators",
        Ty::Bool,
        "Falco: do not use BPF iterators for the initial state.",
        "Peregrine reads /proc, not BPF iterators",
    ),
];

const ENGINE: &[Field] = &[
    f("kind", Ty::Enum(&["modern_ebpf", "kmod", "ebpf", "replay", "nodriver", "gvisor"]), "Event source: modern_ebpf (live; kmod and ebpf are served by the same CO-RE probe), replay (a capture file), nodriver (no syscall source), gvisor (served by the host probe; sandboxed syscalls are not seen)."),
    f("kmod", Ty::Map(KMOD), "Options for kind kmod (applied to Peregrine's probe)."),
    f("modern_ebpf", Ty::Map(MODERN_EBPF), "Options of the live probe."),
    f("replay", Ty::Map(&[f("capture_file", Ty::Str, "Capture file (.scap, .scap.gz) to replay.")]), "Options for kind replay."),
];

const CAPTURE: &[Field] = &[
    f(
        "enabled",
        Ty::Bool,
        "Write scap captures when rules with capture: true match (or all rules).",
    ),
    f("path_prefix", Ty::Str, "Capture file name prefix."),
    f(
        "mode",
        Ty::Enum(&["rules", "all_rules"]),
        "rules: only rules with capture: true; all_rules: every match.",
    ),
    f(
        "default_duration",
        Ty::Int,
        "Capture length in ms when the rule sets no capture_duration.",
    ),
    f(
        "max_file_size_mb",
        Ty::Int,
        "Stop a capture file at this size (0 = no limit).",
    ),
];

const PLUGIN: &[Field] = &[
    f(
        "name",
        Ty::Str,
        "Plugin name (container is built in; others are not supported).",
    ),
    f(
        "library_path",
        Ty::Str,
        "Shared library (not loaded by Peregrine).",
    ),
    f("init_config", Ty::InitConfig, "Plugin init config."),
    f("open_params", Ty::Str, "Plugin open parameters."),
];

const CONTAINER_INIT_CONFIG_NOTE: &str = "";

const APPEND_MATCH: &[Field] = &[
    f("source", Ty::Str, "Only rules of this source."),
    f("tags", STRS, "Only rules having all these tags."),
    f("rule", Ty::Str, "Only this rule."),
];

const APPEND_OUTPUT: &[Field] = &[
    f(
        "match",
        Ty::Map(APPEND_MATCH),
        "Which rules (all conditions must hold).",
    ),
    f(
        "extra_output",
        Ty::Str,
        "Text (with %fields) appended to the output.",
    ),
    f(
        "extra_fields",
        Ty::Seq(&Ty::ExtraField),
        "Fields added to output_fields: a field name (raw) or name: format.",
    ),
    f(
        "suggested_output",
        Ty::Bool,
        "Append the fields the rule's condition suggests.",
    ),
];

const ABLE: &[Field] = &[
    f("rule", Ty::Str, "Rule name pattern (* wildcards)."),
    f("tag", Ty::Str, "Rule tag."),
];

const RULE_SELECTION: &[Field] = &[
    f("enable", Ty::Map(ABLE), "Enable matching rules."),
    f("disable", Ty::Map(ABLE), "Disable matching rules."),
];

const WEBSERVER: &[Field] = &[
    f("enabled", Ty::Bool, "Serve /healthz, /versions and (with prometheus_metrics_enabled and metrics.enabled) /metrics."),
    f("threadiness", Ty::Int, "Worker threads (0 = one per CPU)."),
    f("listen_port", Ty::Int, "TCP port."),
    f("listen_address", Ty::Str, "IP address to listen on."),
    f("k8s_healthz_endpoint", Ty::Str, "Path of the health endpoint."),
    f("prometheus_metrics_enabled", Ty::Bool, "Serve Prometheus metrics on /metrics."),
    f("ssl_enabled", Ty::Bool, "Serve HTTPS."),
    f("ssl_certificate", Ty::Str, "PEM file holding the certificate chain and the private key."),
];

const LIBS_LOGGER: &[Field] = &[
    noop(
        "enabled",
        Ty::Bool,
        "Falco: log from libsinsp/libscap.",
        "Peregrine has no libs",
    ),
    noop(
        "severity",
        Ty::Str,
        "Falco: libs log severity.",
        "Peregrine has no libs",
    ),
];

const SYSCALL_EVENT_DROPS: &[Field] = &[
    f(
        "threshold",
        Ty::Num,
        "Fraction of dropped events (0-1) that triggers the actions.",
    ),
    f("actions", STRS, "ignore, log, alert, exit."),
    f("rate", Ty::Num, "Drop notices regained per second."),
    f("max_burst", Ty::Int, "Most drop notices in a burst."),
    f(
        "simulate_drops",
        Ty::Bool,
        "Pretend drops happen (testing).",
    ),
];

const METRICS: &[Field] = &[
    f("enabled", Ty::Bool, "Collect metrics."),
    f(
        "interval",
        Ty::Str,
        "Snapshot period for output_rule/output_file: Prometheus duration (1h, 30s, 1m30s) or ms.",
    ),
    f(
        "output_rule",
        Ty::Bool,
        "Emit each snapshot as an internal alert (rule 'Falco internal: metrics snapshot').",
    ),
    f(
        "output_file",
        Ty::Str,
        "Also append each snapshot as JSON to this file.",
    ),
    f("rules_counters_enabled", Ty::Bool, "Matches per rule."),
    f(
        "resource_utilization_enabled",
        Ty::Bool,
        "CPU and memory of the process.",
    ),
    f(
        "state_counters_enabled",
        Ty::Bool,
        "Thread and fd table sizes.",
    ),
    f(
        "kernel_event_counters_enabled",
        Ty::Bool,
        "Kernel events and drops.",
    ),
    noop(
        "kernel_event_counters_per_cpu_enabled",
        Ty::Bool,
        "Falco: kernel events and drops per CPU.",
        "per-CPU counters are not collected",
    ),
    noop(
        "libbpf_stats_enabled",
        Ty::Bool,
        "Falco: libbpf program statistics.",
        "not collected",
    ),
    noop(
        "plugins_metrics_enabled",
        Ty::Bool,
        "Falco: plugin metrics.",
        "no plugins are loaded",
    ),
    noop(
        "kernel_iter_event_counters_enabled",
        Ty::Bool,
        "Falco: BPF iterator counters.",
        "not collected",
    ),
    noop(
        "jemalloc_stats_enabled",
        Ty::Bool,
        "Falco: jemalloc statistics.",
        "Peregrine does not use jemalloc",
    ),
    f(
        "convert_memory_to_mb",
        Ty::Bool,
        "Memory in MB in snapshots (Prometheus always gets bytes).",
    ),
    f(
        "include_empty_values",
        Ty::Bool,
        "Include zero counters in snapshots.",
    ),
];

const BASE_SYSCALLS: &[Field] = &[
    f(
        "custom_set",
        STRS,
        "Syscalls always traced (names; !name removes).",
    ),
    f(
        "repair",
        Ty::Bool,
        "Add the syscalls state tracking needs to the rules' set.",
    ),
    f("all", Ty::Bool, "Trace every syscall."),
];

const FALCO_LIBS: &[Field] = &[
    f(
        "thread_table_size",
        Ty::Int,
        "Most threads kept in the thread table.",
    ),
    f(
        "thread_table_auto_purging_interval_s",
        Ty::Int,
        "How often dead threads are purged.",
    ),
    f(
        "thread_table_auto_purging_thread_timeout_s",
        Ty::Int,
        "How long an inactive thread is kept.",
    ),
    f("snaplen", Ty::Int, "Bytes of I/O buffers captured."),
];

const ENGINE_ENABLED: &[Field] = &[f("enabled", Ty::Bool, "")];

const CONTAINER_ENGINES: &[Field] = &[
    noop(
        "docker",
        Ty::Map(ENGINE_ENABLED),
        "Legacy (Falco < 0.41).",
        "container metadata is built in",
    ),
    noop(
        "cri",
        Ty::Map(&[
            f("enabled", Ty::Bool, ""),
            f("sockets", STRS, ""),
            f("disable_async", Ty::Bool, ""),
        ]),
        "Legacy (Falco < 0.41).",
        "container metadata is built in",
    ),
    noop(
        "podman",
        Ty::Map(ENGINE_ENABLED),
        "Legacy (Falco < 0.41).",
        "container metadata is built in",
    ),
    noop(
        "lxc",
        Ty::Map(ENGINE_ENABLED),
        "Legacy (Falco < 0.41).",
        "container metadata is built in",
    ),
    noop(
        "libvirt_lxc",
        Ty::Map(ENGINE_ENABLED),
        "Legacy (Falco < 0.41).",
        "container metadata is built in",
    ),
    noop(
        "bpm",
        Ty::Map(ENGINE_ENABLED),
        "Legacy (Falco < 0.41).",
        "container metadata is built in",
    ),
];

const RULE_RATE_LIMIT: &[Field] = &[
    ext(
        "enabled",
        Ty::Bool,
        "Limit alerts per rule (Falco 0.44 has no limit).",
    ),
    ext("rate", Ty::Num, "Alerts per second each rule regains."),
    ext("max_burst", Ty::Num, "Alerts a rule may send in a burst."),
];

/// The whole document.
pub const ROOT: &[Field] = &[
    f("config_files", Ty::Seq(&Ty::Include), "More config files or directories (their files in name order), merged over this one: a path, or {path, strategy: append|override|add-only}."),
    f("watch_config_files", Ty::Bool, "Reload when the config or rules files change."),
    f("rules_files", STRS, "Rules files and directories (.yaml/.yml files in name order), loaded in order; missing paths are skipped."),
    f("rules_file", STRS, "Deprecated spelling of rules_files."),
    noop("rule_files", STRS, "In Falco's schema, read by nothing.", "Falco ignores it too; use rules_files"),
    f("rules", Ty::Seq(&Ty::Map(RULE_SELECTION)), "Enable/disable rules by name pattern or tag, applied in order."),
    f("engine", Ty::Map(ENGINE), "Where events come from."),
    f("capture", Ty::Map(CAPTURE), "Rule-triggered capture files."),
    f("load_plugins", STRS, "Plugins to load (names from plugins); container is built in."),
    f("plugins", Ty::Seq(&Ty::Map(PLUGIN)), "Plugin definitions."),
    noop("plugins_hostinfo", Ty::Bool, "Falco: give plugins host information.", "no plugins are loaded"),
    f("time_format_iso_8601", Ty::Bool, "Alert times in ISO 8601 (UTC) instead of local HH:MM:SS.ns."),
    f("buffer_format_base64", Ty::Bool, "Print I/O buffers (%evt.buffer) in base64."),
    f("priority", Ty::Enum(&["emergency", "alert", "critical", "error", "warning", "notice", "info", "informational", "debug"]), "Lowest rule priority loaded."),
    f("json_output", Ty::Bool, "Alerts as JSON."),
    f("json_include_output_property", Ty::Bool, "JSON alerts carry output."),
    f("json_include_message_property", Ty::Bool, "JSON alerts carry message (output without time and priority)."),
    f("json_include_output_fields_property", Ty::Bool, "JSON alerts carry output_fields."),
    f("json_include_tags_property", Ty::Bool, "JSON alerts carry tags."),
    f("buffered_outputs", Ty::Bool, "Flush outputs only when their queue runs empty."),
    f("rule_matching", Ty::Enum(&["first", "all"]), "first: one alert per event; all: every matching rule."),
    f("outputs_queue", Ty::Map(&[f("capacity", Ty::Int, "Alerts each output may hold (0 = Peregrine's default of 16384; Falco: unbounded).")]), "Output queue."),
    f("append_output", Ty::Seq(&Ty::Map(APPEND_OUTPUT)), "Text and fields appended to matching rules' alerts."),
    f("static_fields", Ty::Dict(&Ty::Str), "Fields with fixed values added to every alert."),
    f("stdout_output", Ty::Map(ENABLED), "Alerts on standard output."),
    f("syslog_output", Ty::Map(SYSLOG_OUTPUT), "Alerts to syslog."),
    f("file_output", Ty::Map(FILE_OUTPUT), "Alerts to a file."),
    f("http_output", Ty::Map(HTTP_OUTPUT), "Alerts POSTed over HTTP(S)."),
    f("program_output", Ty::Map(PROGRAM_OUTPUT), "Alerts piped into a program."),
    f("webserver", Ty::Map(WEBSERVER), "Embedded web server."),
    f("log_stderr", Ty::Bool, "Log to stderr."),
    f("log_syslog", Ty::Bool, "Log to syslog."),
    f("log_level", Ty::Enum(&["emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"]), "Lowest log level."),
    f("libs_logger", Ty::Map(LIBS_LOGGER), "Falco's libs logger."),
    f("output_timeout", Ty::Int, "ms an output may block; at shutdown, how long queued alerts may take to flush."),
    f("syscall_event_timeouts", Ty::Map(&[f("max_consecutives", Ty::Int, "Consecutive empty reads before a notice.")]), "Event source timeouts."),
    f("syscall_event_drops", Ty::Map(SYSCALL_EVENT_DROPS), "What to do when the kernel drops events."),
    f("metrics", Ty::Map(METRICS), "Metrics: Prometheus /metrics, periodic snapshots."),
    f("base_syscalls", Ty::Map(BASE_SYSCALLS), "Syscalls traced beyond the rules' needs."),
    f("falco_libs", Ty::Map(FALCO_LIBS), "State table limits."),
    noop("container_engines", Ty::Map(CONTAINER_ENGINES), "Legacy container engines (Falco < 0.41).", "container metadata is built in"),
    ext("rule_rate_limit", Ty::Map(RULE_RATE_LIMIT), "Per-rule token bucket against alert floods."),
];

fn ty_schema(ty: &Ty) -> Json {
    match ty {
        Ty::Bool => json!({"type": "boolean"}),
        Ty::Int => json!({"type": "integer"}),
        Ty::Num => json!({"type": "number"}),
        Ty::Str => json!({"type": "string"}),
        Ty::Any => json!({}),
        Ty::Enum(values) => json!({"type": "string", "enum": values}),
        Ty::Seq(item) => json!({"type": "array", "items": ty_schema(item)}),
        Ty::Map(fields) => fields_schema(fields),
        Ty::Dict(v) => json!({"type": "object", "additionalProperties": ty_schema(v)}),
        Ty::Include => json!({"oneOf": [
            {"type": "string"},
            {"type": "object", "additionalProperties": false, "required": ["path"], "properties": {
                "path": {"type": "string"},
                "strategy": {"type": "string", "enum": ["append", "override", "add-only"]}}}
        ]}),
        Ty::ExtraField => json!({"anyOf": [
            {"type": "string"},
            {"type": "object", "additionalProperties": {"type": "string"}}
        ]}),
        Ty::InitConfig => {
            json!({"anyOf": [{"type": "object"}, {"type": "string"}, {"type": "null"}]})
        }
    }
}

fn fields_schema(fields: &[Field]) -> Json {
    let mut props = Map::new();
    for fl in fields {
        let mut s = ty_schema(&fl.ty);
        if let Json::Object(o) = &mut s {
            let mut doc = fl.doc.to_string();
            match fl.effect {
                Effect::Ignored(why) => {
                    doc.push_str(&format!(" [accepted, no effect in Peregrine: {why}]"))
                }
                Effect::Extension => doc.push_str(" [Peregrine extension]"),
                Effect::Used => {}
            }
            if !doc.is_empty() {
                o.insert("description".into(), Json::String(doc));
            }
        }
        props.insert(fl.key.to_string(), s);
    }
    json!({"type": "object", "additionalProperties": false, "properties": props})
}

/// The JSON Schema of the config document (`--config-schema`).
pub fn json_schema() -> Json {
    let mut s = fields_schema(ROOT);
    if let Json::Object(o) = &mut s {
        o.insert(
            "$schema".into(),
            json!("http://json-schema.org/draft-07/schema#"),
        );
        o.insert(
            "title".into(),
            json!("Peregrine configuration (falco.yaml 0.44 compatible)"),
        );
    }
    let _ = CONTAINER_INIT_CONFIG_NOTE;
    s
}

/// Every key path (`a.b.c`; sequences of mappings as `a[].b`), for the
/// documentation test.
pub fn all_paths() -> Vec<String> {
    fn walk(prefix: &str, fields: &[Field], out: &mut Vec<String>) {
        for fl in fields {
            let p = if prefix.is_empty() {
                fl.key.to_string()
            } else {
                format!("{prefix}.{}", fl.key)
            };
            out.push(p.clone());
            match fl.ty {
                Ty::Map(sub) => walk(&p, sub, out),
                Ty::Seq(Ty::Map(sub)) => walk(&format!("{p}[]"), sub, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    walk("", ROOT, &mut out);
    out
}
