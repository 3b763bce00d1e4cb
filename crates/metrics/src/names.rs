//! Metric names. Falco 0.44's, where Falco has the metric (same name, unit
//! suffix and labels, so dashboards and alerts keep working), and
//! Peregrine's own (`peregrine_*`).

/// `{version}` = 1.
pub const VERSION_INFO: &str = "falcosecurity_falco_version_info";
/// `{file_name, sha256}` = 1, one series per loaded rules file.
pub const SHA256_RULES_FILES_INFO: &str = "falcosecurity_falco_sha256_rules_files_info";
/// `{file_name, sha256}` = 1, one series per loaded config file.
pub const SHA256_CONFIG_FILES_INFO: &str = "falcosecurity_falco_sha256_config_files_info";
/// Alerts that did not fit an output queue (all outputs).
pub const OUTPUTS_QUEUE_NUM_DROPS: &str = "falcosecurity_falco_outputs_queue_num_drops_total";
/// When the config/rules were last (re)loaded, ns since the epoch.
pub const RELOAD_TIMESTAMP: &str = "falcosecurity_falco_reload_timestamp_nanoseconds";
/// `{priority (numeric, 0 = Emergency), rule_name, source, tag_<tag>="true"…}`.
pub const RULES_MATCHES: &str = "falcosecurity_falco_rules_matches_total";
/// `{engine_name, evt_source}` = 1.
pub const ENGINE_NAME_INFO: &str = "falcosecurity_scap_engine_name_info";
/// Events read from the kernel / capture (Falco: libscap's n_evts).
pub const SCAP_N_EVTS: &str = "falcosecurity_scap_n_evts_total";
/// Events the kernel could not deliver (ring buffer full).
pub const SCAP_N_DROPS: &str = "falcosecurity_scap_n_drops_total";
/// `{dir, drop}` kernel drops by event category.
pub const SCAP_N_DROPS_BUFFER: &str = "falcosecurity_scap_n_drops_buffer_total";
pub const SCAP_N_THREADS: &str = "falcosecurity_scap_n_threads_total";
pub const SCAP_N_FDS: &str = "falcosecurity_scap_n_fds_total";
pub const CPU_USAGE_RATIO: &str = "falcosecurity_falco_cpu_usage_ratio";
pub const MEMORY_RSS_BYTES: &str = "falcosecurity_falco_memory_rss_bytes";
pub const MEMORY_VSZ_BYTES: &str = "falcosecurity_falco_memory_vsz_bytes";
pub const MEMORY_PSS_BYTES: &str = "falcosecurity_falco_memory_pss_bytes";
pub const HOST_NUM_CPUS: &str = "falcosecurity_falco_host_num_cpus_total";
pub const START_TIMESTAMP: &str = "falcosecurity_falco_start_timestamp_nanoseconds";
pub const DURATION_SECONDS: &str = "falcosecurity_falco_duration_seconds_total";
pub const KERNEL_RELEASE_INFO: &str = "falcosecurity_falco_kernel_release_info";
pub const HOSTNAME_INFO: &str = "falcosecurity_evt_hostname_info";

/// `{source, type}` events evaluated, per event type name.
pub const EVENTS: &str = "peregrine_events_total";
/// `{output}` alerts waiting in each output's queue.
pub const OUTPUT_QUEUE_DEPTH: &str = "peregrine_output_queue_depth";
/// `{output}` queue capacity.
pub const OUTPUT_QUEUE_CAPACITY: &str = "peregrine_output_queue_capacity";
/// `{output}` alerts dropped because that output's queue was full.
pub const OUTPUT_DROPS: &str = "peregrine_output_drops_total";
/// `{output}` alerts written/sent.
pub const OUTPUT_DELIVERED: &str = "peregrine_output_delivered_total";
/// `{output}` alerts given up on (permanent error, or shutdown deadline).
pub const OUTPUT_FAILED: &str = "peregrine_output_failed_total";
/// `{output}` delivery attempts retried (HTTP).
pub const OUTPUT_RETRIES: &str = "peregrine_output_retries_total";
/// `{output}` write/connect errors.
pub const OUTPUT_ERRORS: &str = "peregrine_output_errors_total";
/// `{rule}` alerts suppressed by per-rule rate limiting.
pub const ALERTS_RATE_LIMITED: &str = "peregrine_alerts_rate_limited_total";
/// Rules reloads that failed validation (the old rules kept running).
pub const RELOAD_FAILURES: &str = "peregrine_reload_failures_total";

/// HELP text. Falco points every metric at its docs; so do we for its names.
pub fn help(name: &str) -> &'static str {
    match name {
        EVENTS => "Events evaluated, by source and event type",
        OUTPUT_QUEUE_DEPTH => "Alerts waiting in the output's queue",
        OUTPUT_QUEUE_CAPACITY => "Capacity of the output's queue",
        OUTPUT_DROPS => "Alerts dropped because the output's queue was full",
        OUTPUT_DELIVERED => "Alerts delivered by the output",
        OUTPUT_FAILED => "Alerts the output gave up on",
        OUTPUT_RETRIES => "Delivery attempts retried",
        OUTPUT_ERRORS => "Output write or connection errors",
        ALERTS_RATE_LIMITED => "Alerts suppressed by per-rule rate limiting",
        RELOAD_FAILURES => "Reloads rejected (old rules kept running)",
        _ => "https://falco.org/docs/metrics/",
    }
}
