//! The command line: Falco 0.44's flags (so `peregrine` replaces `falco`
//! unchanged), the classic `-e`/`-A` shortcuts, and Peregrine's own
//! subcommands for dumping, parsing and capturing.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "peregrine",
    about = "Runtime security engine speaking Falco's rules language",
    disable_version_flag = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(flatten)]
    pub falco: FalcoArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Falco 0.44's options, spelled as Falco spells them.
#[derive(Debug, Args, Default, Clone)]
pub struct FalcoArgs {
    /// Configuration file (default: /etc/peregrine/peregrine.yaml, then /etc/falco/falco.yaml).
    #[arg(short = 'c', value_name = "PATH")]
    pub config: Option<String>,
    /// Rules file or directory (repeatable; directories load their .yml/.yaml files).
    #[arg(short = 'r', value_name = "PATH")]
    pub rules: Vec<String>,
    /// Override a config key: `key=value`, `a.b.c=value`, `list[N]=value`.
    #[arg(short = 'o', long = "option", value_name = "KEY=VALUE")]
    pub options: Vec<String>,
    /// Validate rules files (repeatable; loaded as one ruleset in order).
    #[arg(short = 'V', long = "validate", value_name = "PATH")]
    pub validate: Vec<String>,
    /// List the loaded rules with their descriptions.
    #[arg(short = 'L')]
    pub list_rules: bool,
    /// Describe one rule.
    #[arg(short = 'l', value_name = "RULE")]
    pub describe_rule: Option<String>,
    /// List fields, optionally of one source (`--list=syscall`).
    #[arg(long = "list", value_name = "SOURCE", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub list_fields: Option<String>,
    /// With --list: names only.
    #[arg(short = 'N')]
    pub names_only: bool,
    /// Format for --list and --list-events: text, markdown or json.
    #[arg(long = "format", value_name = "FORMAT")]
    pub format: Option<String>,
    /// Deprecated (Falco's): the same as `--format markdown`.
    #[arg(long = "markdown")]
    pub markdown: bool,
    /// List the event types the syscall source knows.
    #[arg(long = "list-events")]
    pub list_events: bool,
    /// Print the ignored (not interesting) event types and exit.
    #[arg(short = 'i')]
    pub print_ignored_events: bool,
    /// Stop after this many seconds (0 or absent: run until stopped).
    #[arg(short = 'M', value_name = "SECONDS")]
    pub duration_secs: Option<u64>,
    /// Unbuffered outputs.
    #[arg(short = 'U', long = "unbuffered")]
    pub unbuffered: bool,
    /// Verbose.
    #[arg(short = 'v')]
    pub verbose: bool,
    /// Write the process id to this file.
    #[arg(short = 'P', long = "pidfile", value_name = "PATH")]
    pub pidfile: Option<String>,
    /// Load config and rules, check everything, but process no events.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Print the plugins the config loads and exit.
    #[arg(long = "list-plugins")]
    pub list_plugins: bool,
    /// Print a configured plugin's info (by name or library_path) and exit.
    #[arg(long = "plugin-info", value_name = "PLUGIN")]
    pub plugin_info: Option<String>,
    /// Print support information (JSON) and exit.
    #[arg(long = "support")]
    pub support: bool,
    /// Print the JSON Schema of the config file and exit.
    #[arg(long = "config-schema")]
    pub config_schema: bool,
    /// Print the JSON Schema of rules files and exit.
    #[arg(long = "rule-schema")]
    pub rule_schema: bool,
    /// Enable only this event source (repeatable; `syscall`).
    #[arg(long = "enable-source", value_name = "SOURCE")]
    pub enable_source: Vec<String>,
    /// Disable this event source (repeatable).
    #[arg(long = "disable-source", value_name = "SOURCE")]
    pub disable_source: Vec<String>,
    /// Alone (Falco's flag): print the system page size and exit.
    /// `--page-size=PAGES` (Peregrine's): ring buffer pages per CPU for live capture.
    #[arg(
        long = "page-size",
        value_name = "PAGES",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "0"
    )]
    pub page_size: Option<u64>,
    /// Print the version (and the engine version rules files check against).
    #[arg(long = "version")]
    pub version: bool,
    /// Older Falco (deprecated in 0.44): `-pc`/`-pk` (no effect: container
    /// fields are suggested by the container plugin) or a format appended
    /// to every rule's output.
    #[arg(short = 'p', long = "print", value_name = "FORMAT")]
    pub print_additional: Option<String>,
    /// Classic (Falco < 0.38): disable rules whose name contains this (repeatable).
    #[arg(short = 'D', value_name = "SUBSTRING")]
    pub disable_rules: Vec<String>,
    /// Classic: enable only rules with this tag (repeatable).
    #[arg(short = 't', value_name = "TAG")]
    pub only_tags: Vec<String>,
    /// Classic: disable rules with this tag (repeatable).
    #[arg(short = 'T', value_name = "TAG")]
    pub disable_tags: Vec<String>,
    /// Classic: `engine.kind=modern_ebpf`.
    #[arg(long = "modern-bpf")]
    pub modern_bpf: bool,
    /// Classic: `engine.kind=nodriver`.
    #[arg(long = "nodriver")]
    pub nodriver: bool,
    /// Classic: `falco_libs.snaplen`.
    #[arg(short = 'S', long = "snaplen", value_name = "LEN")]
    pub snaplen: Option<u64>,
    /// Classic: `buffer_format_base64=true`.
    #[arg(short = 'b', long = "print-base64")]
    pub print_base64: bool,
    /// Classic Kubernetes API and CRI flags: accepted, without effect
    /// (metadata comes from the container runtime).
    #[arg(short = 'k', long = "k8s-api", value_name = "URL")]
    pub k8s_api: Option<String>,
    #[arg(short = 'K', long = "k8s-api-cert", value_name = "FILES")]
    pub k8s_api_cert: Option<String>,
    #[arg(long = "k8s-node", value_name = "NODE")]
    pub k8s_node: Option<String>,
    #[arg(long = "cri", value_name = "PATH")]
    pub cri: Vec<String>,
    #[arg(long = "disable-cri-async")]
    pub disable_cri_async: bool,
    /// Classic shortcut: replay this capture file.
    #[arg(short = 'e', value_name = "CAPTURE")]
    pub capture_file: Option<String>,
    /// Classic shortcut: evaluate all events, not only the interesting set.
    #[arg(short = 'A')]
    pub all_events: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the events of a capture file, one line each (like `sysdig -r`).
    Events(EventsArgs),
    /// Filter-expression tools.
    #[command(subcommand)]
    Filter(FilterCommand),
    /// Capture live events to a scap file.
    Capture(CaptureArgs),
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Capture file (.scap or .scap.gz).
    pub file: String,
    /// Only events matching this filter expression.
    pub filter: Option<String>,
    /// Output format with %fields; a leading `*` prints events with missing fields.
    #[arg(short = 'p', value_name = "FORMAT")]
    pub format: Option<String>,
    /// Write matching events to this capture file instead of printing them
    /// (gzip-compressed when OUT ends in `.gz`).
    #[arg(short = 'w', value_name = "OUT")]
    pub write: Option<String>,
    /// Also print internal events (procinfo, old container metadata), which
    /// sysdig numbers but hides.
    #[arg(long = "internal")]
    pub internal: bool,
}

#[derive(Debug, Subcommand)]
pub enum FilterCommand {
    /// Parse an expression without resolving fields and print its AST.
    Parse { expression: String },
}

#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// Output capture file.
    #[arg(short = 'w', value_name = "FILE")]
    pub write: String,
    /// Stop after this many seconds (0 or absent: run until stopped).
    #[arg(short = 'M', value_name = "SECONDS")]
    pub duration_secs: Option<u64>,
    /// Only events matching this filter expression.
    pub filter: Option<String>,
}
