//! The typed configuration, read from the checked document with Falco's
//! defaults for absent keys.

use peregrine_alert::{AlertFormat, Priority};
use peregrine_outputs::append::{AppendOutput, ExtraField};
use peregrine_outputs::{http::HttpConfig, OutputsConfig, RateLimitConfig};

use super::tree::{CNode, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    ModernEbpf,
    /// Falco's kernel module: served by Peregrine's CO-RE probe.
    Kmod,
    /// Falco's legacy eBPF probe: served by Peregrine's CO-RE probe.
    Ebpf,
    Replay,
    Nodriver,
    Gvisor,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    pub kind: EngineKind,
    pub replay_capture_file: String,
    pub cpus_for_each_buffer: i64,
    pub buf_size_preset: i64,
    pub drop_failed_exit: bool,
    pub disable_iterators: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSelection {
    Enable {
        rule: Option<String>,
        tag: Option<String>,
    },
    Disable {
        rule: Option<String>,
        tag: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureConfig {
    pub enabled: bool,
    pub path_prefix: String,
    /// `mode: all_rules`.
    pub all_rules: bool,
    pub default_duration_ms: u64,
    pub max_file_size_mb: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginConfig {
    pub name: String,
    pub library_path: String,
    pub init_config: String,
    pub open_params: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebserverConfig {
    pub enabled: bool,
    pub threadiness: usize,
    pub listen_port: u16,
    pub listen_address: String,
    pub k8s_healthz_endpoint: String,
    pub prometheus_metrics_enabled: bool,
    pub ssl_enabled: bool,
    pub ssl_certificate: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyscallEventDrops {
    pub threshold: f64,
    pub actions: Vec<String>,
    pub rate: f64,
    pub max_burst: i64,
    pub simulate_drops: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    pub enabled: bool,
    pub interval_ms: u64,
    pub output_rule: bool,
    pub output_file: String,
    pub rules_counters_enabled: bool,
    pub resource_utilization_enabled: bool,
    pub state_counters_enabled: bool,
    pub kernel_event_counters_enabled: bool,
    pub kernel_event_counters_per_cpu_enabled: bool,
    pub convert_memory_to_mb: bool,
    pub include_empty_values: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseSyscalls {
    pub custom_set: Vec<String>,
    pub repair: bool,
    pub all: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FalcoLibs {
    pub thread_table_size: u64,
    pub thread_table_auto_purging_interval_s: u64,
    pub thread_table_auto_purging_thread_timeout_s: u64,
    pub snaplen: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    pub stderr: bool,
    pub syslog: bool,
    pub level: String,
}

/// Everything Peregrine reads from its config.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub watch_config_files: bool,
    /// As written (files and directories, missing ones included); see
    /// [`super::expand_rules_paths`].
    pub rules_files: Vec<String>,
    pub rules: Vec<RuleSelection>,
    pub engine: EngineConfig,
    pub capture: CaptureConfig,
    /// The plugins to load (load_plugins applied), container included.
    pub plugins: Vec<PluginConfig>,
    pub buffer_format_base64: bool,
    pub priority: Priority,
    /// `rule_matching: all`.
    pub rule_matching_all: bool,
    pub append_output: Vec<AppendOutput>,
    pub static_fields: Vec<(String, String)>,
    /// Alert format, every output, queue, rate limit.
    pub outputs: OutputsConfig,
    pub webserver: WebserverConfig,
    pub log: LogConfig,
    pub output_timeout_ms: u64,
    pub syscall_event_timeouts_max_consecutives: u64,
    pub syscall_event_drops: SyscallEventDrops,
    pub metrics: MetricsConfig,
    pub base_syscalls: BaseSyscalls,
    pub falco_libs: FalcoLibs,
}

/// Reads typed values out of the (checked) document.
struct Reader<'a>(&'a CNode);

impl Reader<'_> {
    fn node(&self, path: &str) -> Option<&CNode> {
        self.0.at(path).filter(|n| !n.is_null())
    }
    fn b(&self, path: &str, d: bool) -> bool {
        self.node(path).and_then(CNode::as_bool).unwrap_or(d)
    }
    fn i(&self, path: &str, d: i64) -> i64 {
        self.node(path).and_then(CNode::as_i64).unwrap_or(d)
    }
    fn u(&self, path: &str, d: u64) -> u64 {
        self.i(path, d as i64).max(0) as u64
    }
    fn f(&self, path: &str, d: f64) -> f64 {
        self.node(path).and_then(CNode::as_f64).unwrap_or(d)
    }
    fn s(&self, path: &str, d: &str) -> String {
        self.node(path)
            .and_then(CNode::as_str)
            .unwrap_or(d)
            .to_string()
    }
    fn strs(&self, path: &str) -> Vec<String> {
        self.node(path).map(strings).unwrap_or_default()
    }
}

/// A sequence of scalars, or a lone scalar as one item.
pub(super) fn strings(n: &CNode) -> Vec<String> {
    match &n.value {
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Value::Scalar { text, .. } if !n.is_null() => vec![text.clone()],
        _ => Vec::new(),
    }
}

fn items(n: Option<&CNode>) -> &[CNode] {
    match n.map(|n| &n.value) {
        Some(Value::Seq(items)) => items,
        _ => &[],
    }
}

fn opt_str(n: &CNode, key: &str) -> Option<String> {
    n.get(key).and_then(CNode::as_str).map(str::to_string)
}

/// `1h`, `30s`, `1m30s`, `500ms`, `2d`, or a number of ms.
pub fn parse_interval_ms(s: &str) -> Option<u64> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if s.is_empty() {
        return None;
    }
    if let Ok(ms) = s.parse::<u64>() {
        return Some(ms);
    }
    let mut total = 0u64;
    let mut rest = s.as_str();
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            "y" => 365 * 86_400_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(mult)?)?;
        rest = &rest[unit_len..];
    }
    Some(total)
}

fn selection(n: &CNode) -> Option<RuleSelection> {
    let pick = |m: &CNode| (opt_str(m, "rule"), opt_str(m, "tag"));
    if let Some(e) = n.get("enable") {
        let (rule, tag) = pick(e);
        return Some(RuleSelection::Enable { rule, tag });
    }
    n.get("disable").map(|d| {
        let (rule, tag) = pick(d);
        RuleSelection::Disable { rule, tag }
    })
}

fn append_output(n: &CNode) -> AppendOutput {
    let m = n.get("match");
    AppendOutput {
        match_source: m.and_then(|m| opt_str(m, "source")),
        match_rule: m.and_then(|m| opt_str(m, "rule")),
        match_tags: m
            .and_then(|m| m.get("tags"))
            .map(strings)
            .unwrap_or_default(),
        extra_output: opt_str(n, "extra_output"),
        extra_fields: items(n.get("extra_fields"))
            .iter()
            .filter_map(|f| match &f.value {
                Value::Scalar { text, .. } => Some(ExtraField::Raw(text.clone())),
                Value::Map(e) => e.first().and_then(|(k, v)| {
                    v.as_str().map(|fmt| ExtraField::Formatted {
                        name: k.clone(),
                        format: fmt.to_string(),
                    })
                }),
                Value::Seq(_) => None,
            })
            .collect(),
        suggested_output: n
            .get("suggested_output")
            .and_then(CNode::as_bool)
            .unwrap_or(false),
    }
}

fn plugin(n: &CNode) -> PluginConfig {
    let init_config = match n.get("init_config") {
        Some(c) if matches!(c.value, Value::Map(_)) => to_json(c).to_string(),
        Some(c) => c
            .as_str()
            .filter(|_| !c.is_null())
            .unwrap_or("")
            .to_string(),
        None => String::new(),
    };
    PluginConfig {
        name: opt_str(n, "name").unwrap_or_default(),
        library_path: opt_str(n, "library_path").unwrap_or_default(),
        init_config,
        open_params: opt_str(n, "open_params")
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

/// The document as JSON (as Falco converts plugin init configs and prints
/// `--support`): plain scalars become numbers or booleans where they read so.
pub fn to_json(n: &CNode) -> serde_json::Value {
    use serde_json::Value as J;
    match &n.value {
        Value::Scalar { text, .. } => {
            if n.is_null() {
                J::Null
            } else if let Some(i) = n.as_i64() {
                J::from(i)
            } else if let Some(f) = n.as_f64().filter(|_| n.is_plain()) {
                serde_json::Number::from_f64(f)
                    .map(J::Number)
                    .unwrap_or(J::Null)
            } else if let Some(b) = n.as_bool() {
                J::Bool(b)
            } else {
                J::String(text.clone())
            }
        }
        Value::Seq(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
    }
}

impl Config {
    /// Reads the checked document; semantic errors (bad priority, unknown
    /// plugin in load_plugins, …) come back as messages.
    pub fn from_document(root: &CNode) -> Result<Config, String> {
        let r = Reader(root);
        let kind = match r.s("engine.kind", "kmod").as_str() {
            "modern_ebpf" => EngineKind::ModernEbpf,
            "kmod" => EngineKind::Kmod,
            "ebpf" => EngineKind::Ebpf,
            "replay" => EngineKind::Replay,
            "nodriver" => EngineKind::Nodriver,
            "gvisor" => EngineKind::Gvisor,
            other => return Err(format!("engine.kind '{other}' is not a valid kind.")),
        };
        let prefix = if kind == EngineKind::Kmod {
            "engine.kmod"
        } else {
            "engine.modern_ebpf"
        };
        let engine = EngineConfig {
            kind,
            replay_capture_file: r.s("engine.replay.capture_file", ""),
            cpus_for_each_buffer: r.i("engine.modern_ebpf.cpus_for_each_buffer", 2),
            buf_size_preset: r.i(&format!("{prefix}.buf_size_preset"), 4),
            drop_failed_exit: r.b(&format!("{prefix}.drop_failed_exit"), false),
            disable_iterators: r.b("engine.modern_ebpf.disable_iterators", false),
        };
        if kind == EngineKind::Replay && engine.replay_capture_file.is_empty() {
            return Err(
                "engine.kind is 'replay' but no engine.replay.capture_file specified.".into(),
            );
        }

        if r.node("rules_files").is_some() && r.node("rules_file").is_some() {
            return Err("both 'rules_files' and 'rules_file' keys set".into());
        }
        let mut rules_files = r.strs("rules_files");
        rules_files.extend(r.strs("rules_file"));

        let priority_text = r.s("priority", "debug");
        let priority: Priority = priority_text.parse().map_err(|_| {
            format!("Unknown priority \"{priority_text}\"--must be one of emergency, alert, critical, error, warning, notice, informational, debug")
        })?;
        let rule_matching = r.s("rule_matching", "first");
        if rule_matching != "first" && rule_matching != "all" {
            return Err(format!(
                "Unknown rule matching strategy \"{rule_matching}\"--must be one of first, all"
            ));
        }

        // Plugins: load_plugins picks, in its order; absent = all defined.
        let defined: Vec<PluginConfig> = items(r.node("plugins")).iter().map(plugin).collect();
        let plugins = match r.node("load_plugins") {
            None => defined,
            Some(n) => strings(n)
                .iter()
                .map(|name| {
                    defined.iter().find(|p| &p.name == name).cloned().ok_or_else(|| {
                        format!("Cannot load plugin '{name}': plugin config not found for given name")
                    })
                })
                .collect::<Result<_, _>>()?,
        };

        let format = AlertFormat {
            json_output: r.b("json_output", false),
            json_include_output_property: r.b("json_include_output_property", true),
            json_include_tags_property: r.b("json_include_tags_property", true),
            json_include_message_property: r.b("json_include_message_property", false),
            json_include_output_fields_property: r.b("json_include_output_fields_property", true),
            time_format_iso_8601: r.b("time_format_iso_8601", false),
        };
        let hd = HttpConfig::default();
        let headers = match r.node("http_output.headers").map(|n| &n.value) {
            Some(Value::Map(e)) => e
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect(),
            _ => Vec::new(),
        };
        let output_timeout_ms = r.u("output_timeout", 2000);
        let mut outputs = OutputsConfig {
            format,
            buffered: r.b("buffered_outputs", false),
            queue_capacity: r.u("outputs_queue.capacity", 0),
            output_timeout_ms,
            rule_rate_limit: RateLimitConfig {
                enabled: r.b("rule_rate_limit.enabled", false),
                rate: r.f("rule_rate_limit.rate", RateLimitConfig::default().rate),
                max_burst: r.f(
                    "rule_rate_limit.max_burst",
                    RateLimitConfig::default().max_burst,
                ),
            },
            ..OutputsConfig::default()
        };
        // Falco's defaults when a section is absent: outputs off.
        outputs.stdout.enabled = r.b("stdout_output.enabled", false);
        outputs.syslog.enabled = r.b("syslog_output.enabled", false);
        outputs.syslog.socket_path = r.s("syslog_output.socket_path", "/dev/log");
        outputs.syslog.facility = r.s("syslog_output.facility", "user");
        outputs.syslog.ident = r.s("syslog_output.ident", "");
        outputs.file.enabled = r.b("file_output.enabled", false);
        outputs.file.keep_alive = r.b("file_output.keep_alive", false);
        outputs.file.filename = r.s("file_output.filename", "");
        outputs.program.enabled = r.b("program_output.enabled", false);
        outputs.program.keep_alive = r.b("program_output.keep_alive", false);
        outputs.program.program = r.s("program_output.program", "");
        outputs.http = HttpConfig {
            enabled: r.b("http_output.enabled", false),
            url: r.s("http_output.url", ""),
            user_agent: r.s("http_output.user_agent", &hd.user_agent),
            insecure: r.b("http_output.insecure", false),
            ca_cert: r.s("http_output.ca_cert", ""),
            ca_bundle: r.s("http_output.ca_bundle", ""),
            ca_path: r.s("http_output.ca_path", &hd.ca_path),
            mtls: r.b("http_output.mtls", false),
            client_cert: r.s("http_output.client_cert", &hd.client_cert),
            client_key: r.s("http_output.client_key", &hd.client_key),
            echo: r.b("http_output.echo", false),
            compress_uploads: r.b("http_output.compress_uploads", false),
            keep_alive: r.b("http_output.keep_alive", false),
            max_consecutive_timeouts: r.u("http_output.max_consecutive_timeouts", 5) as u32,
            headers,
            timeout_ms: r.u("http_output.timeout_ms", hd.timeout_ms),
            retry_backoff_initial_ms: r.u(
                "http_output.retry_backoff_initial_ms",
                hd.retry_backoff_initial_ms,
            ),
            retry_backoff_max_ms: r.u("http_output.retry_backoff_max_ms", hd.retry_backoff_max_ms),
        };

        let listen_address = r.s("webserver.listen_address", "0.0.0.0");
        if listen_address.parse::<std::net::IpAddr>().is_err() {
            return Err(format!(
                "webserver listen address \"{listen_address}\" is not a valid IP address"
            ));
        }
        let port = r.i("webserver.listen_port", 8765);
        let listen_port = u16::try_from(port)
            .map_err(|_| format!("webserver.listen_port {port} is not a valid port"))?;
        let threadiness = match r.u("webserver.threadiness", 0) {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            n => n as usize,
        };
        let webserver = WebserverConfig {
            enabled: r.b("webserver.enabled", false),
            threadiness,
            listen_port,
            listen_address,
            k8s_healthz_endpoint: r.s("webserver.k8s_healthz_endpoint", "/healthz"),
            prometheus_metrics_enabled: r.b("webserver.prometheus_metrics_enabled", false),
            ssl_enabled: r.b("webserver.ssl_enabled", false),
            ssl_certificate: r.s("webserver.ssl_certificate", "/etc/falco/falco.pem"),
        };

        let actions = r.strs("syscall_event_drops.actions");
        for a in &actions {
            if !matches!(a.as_str(), "ignore" | "log" | "alert" | "exit") {
                return Err("available actions for syscall event drops are \"ignore\", \"log\", \"alert\", and \"exit\"".into());
            }
            if a != "ignore" && a != "exit" && actions.iter().any(|x| x == "ignore") {
                return Err(format!(
                    "syscall event drop action \"{a}\" does not make sense with the \"ignore\" action"
                ));
            }
        }
        let threshold = r.f("syscall_event_drops.threshold", 0.1);
        if !(0.0..=1.0).contains(&threshold) {
            return Err(
                "syscall event drops threshold must be a double in the range [0, 1]".into(),
            );
        }
        let max_consecutives = r.u("syscall_event_timeouts.max_consecutives", 1000);
        if max_consecutives == 0 {
            return Err(
                "the maximum consecutive timeouts without an event must be an unsigned integer > 0"
                    .into(),
            );
        }
        let interval_text = r.s("metrics.interval", "5000");
        let interval_ms = parse_interval_ms(&interval_text)
            .filter(|ms| *ms > 0)
            .ok_or_else(|| format!("metrics.interval '{interval_text}' is not a valid duration (e.g. 1h, 30s, 1m30s, 5000)"))?;
        let capture_mode = r.s("capture.mode", "rules");

        Ok(Config {
            watch_config_files: r.b("watch_config_files", true),
            rules_files,
            rules: items(r.node("rules"))
                .iter()
                .filter_map(selection)
                .collect(),
            engine,
            capture: CaptureConfig {
                enabled: r.b("capture.enabled", false),
                path_prefix: r.s("capture.path_prefix", "/tmp/falco"),
                all_rules: capture_mode == "all_rules",
                default_duration_ms: r.u("capture.default_duration", 5000),
                max_file_size_mb: r.u("capture.max_file_size_mb", 0),
            },
            plugins,
            buffer_format_base64: r.b("buffer_format_base64", false),
            priority,
            rule_matching_all: rule_matching == "all",
            append_output: items(r.node("append_output"))
                .iter()
                .map(append_output)
                .collect(),
            static_fields: match r.node("static_fields").map(|n| &n.value) {
                Some(Value::Map(e)) => e
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect(),
                _ => Vec::new(),
            },
            outputs,
            webserver,
            log: LogConfig {
                stderr: r.b("log_stderr", false),
                syslog: r.b("log_syslog", true),
                level: r.s("log_level", "info"),
            },
            output_timeout_ms,
            syscall_event_timeouts_max_consecutives: max_consecutives,
            syscall_event_drops: SyscallEventDrops {
                threshold,
                actions: if actions.is_empty() {
                    vec!["ignore".into()]
                } else {
                    actions
                },
                rate: r.f("syscall_event_drops.rate", 0.03333),
                max_burst: r.i("syscall_event_drops.max_burst", 1),
                simulate_drops: r.b("syscall_event_drops.simulate_drops", false),
            },
            metrics: MetricsConfig {
                enabled: r.b("metrics.enabled", false),
                interval_ms,
                output_rule: r.b("metrics.output_rule", false),
                output_file: r.s("metrics.output_file", ""),
                rules_counters_enabled: r.b("metrics.rules_counters_enabled", true),
                resource_utilization_enabled: r.b("metrics.resource_utilization_enabled", true),
                state_counters_enabled: r.b("metrics.state_counters_enabled", true),
                kernel_event_counters_enabled: r.b("metrics.kernel_event_counters_enabled", true),
                kernel_event_counters_per_cpu_enabled: r
                    .b("metrics.kernel_event_counters_per_cpu_enabled", true),
                convert_memory_to_mb: r.b("metrics.convert_memory_to_mb", true),
                include_empty_values: r.b("metrics.include_empty_values", false),
            },
            base_syscalls: BaseSyscalls {
                custom_set: r.strs("base_syscalls.custom_set"),
                repair: r.b("base_syscalls.repair", false),
                all: r.b("base_syscalls.all", false),
            },
            falco_libs: FalcoLibs {
                thread_table_size: r.u("falco_libs.thread_table_size", 262_144),
                thread_table_auto_purging_interval_s: r
                    .u("falco_libs.thread_table_auto_purging_interval_s", 300),
                thread_table_auto_purging_thread_timeout_s: r
                    .u("falco_libs.thread_table_auto_purging_thread_timeout_s", 300),
                snaplen: r.u("falco_libs.snaplen", 0),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn intervals() {
        use super::parse_interval_ms as p;
        assert_eq!(p("5000"), Some(5000));
        assert_eq!(p("1h"), Some(3_600_000));
        assert_eq!(p("1m30s"), Some(90_000));
        assert_eq!(p("250ms"), Some(250));
        assert_eq!(p("1 d"), Some(86_400_000));
        assert_eq!(p("soon"), None);
        assert_eq!(p("5x"), None);
    }
}
