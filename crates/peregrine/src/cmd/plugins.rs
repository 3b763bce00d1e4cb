//! `--list-plugins` and `--plugin-info NAME` in Falco 0.44's format. The
//! only plugin a Peregrine config may name is the container plugin, which
//! Peregrine serves natively; its descriptive facts are the container
//! plugin v0.7.1's (the version Falco 0.44.1 ships).

use crate::config::{Loaded, PluginConfig};

const CONTAINER_DESCRIPTION: &str = "Falco container metadata enrichment Plugin";
const CONTAINER_CONTACT: &str = "github.com/falcosecurity/plugins";

fn info(p: &PluginConfig) -> String {
    let (_, version) = peregrine_rules::loader::NATIVE_PLUGINS[0];
    format!(
        "Name: {}\nDescription: {CONTAINER_DESCRIPTION}\nContact: {CONTAINER_CONTACT}\nVersion: {version}\nCapabilities: \n  - Field Extraction\n  - Event Parsing\n  - Async Events\n",
        p.name
    )
}

/// `--list-plugins`: the plugins the config loads.
pub fn list(loaded: &Loaded) -> u8 {
    let plugins = &loaded.config.plugins;
    let mut body = String::new();
    for p in plugins {
        body.push_str(&info(p));
        body.push('\n');
    }
    super::print_stdout(&format!("{} Plugins Loaded:\n\n{body}\n", plugins.len()))
}

/// `--plugin-info NAME` (a plugin's name or its `library_path`).
pub fn print_info(loaded: &Loaded, name: &str) -> u8 {
    let Some(p) = loaded
        .config
        .plugins
        .iter()
        .find(|p| p.name == name || p.library_path == name)
    else {
        eprintln!("peregrine: can't find plugin and print its info: {name}");
        return 1;
    };
    super::print_stdout(&format!(
        "{}\nInit config schema type: Not available, Peregrine serves this plugin natively \
         (its init_config is read from the config file)\n\n\n",
        info(p)
    ))
}
