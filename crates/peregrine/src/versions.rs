//! What Peregrine reports as its versions (`--version`, `--support`), in
//! the shape of Falco's `versions_info`: tools such as falcoctl read
//! `engine_version` / `engine_version_semver` to pick rules artifacts.

use serde_json::{json, Value};

/// The version of this binary.
pub const PEREGRINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The scap event schema Peregrine's probe and capture reader speak
/// (libscap's `driver/SCHEMA_VERSION` of the event table in `peregrine-event`).
pub const EVENT_SCHEMA_VERSION: &str = "4.5.1";

/// The engine version rules files' `required_engine_version` is checked against.
pub fn engine_version() -> String {
    peregrine_rules::loader::ENGINE_VERSION.to_string()
}

/// `engine_info` of `--support` and `--version` with `json_output`:
/// Falco's keys, sorted as nlohmann sorts them, plus `peregrine_version`.
/// `plugin_versions` names the container plugin Peregrine serves natively
/// when the config asks for it.
pub fn info_json(container_plugin: bool) -> Value {
    let semver = engine_version();
    let minor = peregrine_rules::loader::ENGINE_VERSION.minor.to_string();
    let mut v = json!({
        "default_driver_version": "",
        "driver_api_version": "",
        "driver_schema_version": EVENT_SCHEMA_VERSION,
        "engine_version": minor,
        "engine_version_semver": semver,
        "falco_version": PEREGRINE_VERSION,
        "libs_version": "",
        "peregrine_version": PEREGRINE_VERSION,
        "plugin_api_version": "",
    });
    if container_plugin {
        let (name, version) = peregrine_rules::loader::NATIVE_PLUGINS[0];
        v["plugin_versions"] = json!({ name: version });
    }
    v
}

/// `--version` as text: Falco's lines, with Peregrine's name and what
/// stands in for libs, the plugin API and the driver.
pub fn text() -> String {
    format!(
        "Peregrine version: {PEREGRINE_VERSION}\n\
         Libs version:  none (Peregrine reads events natively)\n\
         Plugin API:    none (the container plugin's fields are built in)\n\
         Engine:        {}\n\
         Driver:\n  \
           API version:    none (CO-RE eBPF probe built in)\n  \
           Schema version: {EVENT_SCHEMA_VERSION}\n  \
           Default driver: modern_ebpf (built in)\n",
        engine_version()
    )
}
