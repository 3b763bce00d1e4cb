//! Flags of older Falco releases that guides still show, translated into
//! what Falco 0.44 spells with `-o` (config keys) or the `rules:` selection,
//! each with a one-line note of the 0.44 spelling. `-e` and `-A` are handled
//! where replay and the interesting set are chosen.

use peregrine_outputs::append::AppendOutput;

use crate::cli::FalcoArgs;
use crate::config::{Loaded, RuleSelection};

/// The arguments with config-key flags turned into `-o` options placed
/// before the user's own `-o` (which win), plus notes for stderr.
pub fn translate(args: &FalcoArgs) -> Result<(FalcoArgs, Vec<String>), String> {
    if !args.only_tags.is_empty()
        && (!args.disable_tags.is_empty() || !args.disable_rules.is_empty())
    {
        return Err("You can not specify both disabled (-D/-T) and enabled (-t) rules".into());
    }
    if args.modern_bpf && args.nodriver {
        return Err("You can not specify more than one of --modern-bpf and --nodriver".into());
    }
    let mut out = args.clone();
    let mut notes = Vec::new();
    let mut opts = Vec::new();
    let mut set = |flag: &str, opt: String, notes: &mut Vec<String>| {
        notes.push(format!(
            "{flag} is an older Falco flag; Falco 0.44 spells it -o {opt}"
        ));
        opts.push(opt);
    };
    if args.modern_bpf {
        set("--modern-bpf", "engine.kind=modern_ebpf".into(), &mut notes);
    }
    if args.nodriver {
        set("--nodriver", "engine.kind=nodriver".into(), &mut notes);
    }
    if let Some(n) = args.snaplen {
        set("-S", format!("falco_libs.snaplen={n}"), &mut notes);
    }
    if args.print_base64 {
        set("-b", "buffer_format_base64=true".into(), &mut notes);
    }
    if args.k8s_api.is_some() || args.k8s_api_cert.is_some() || args.k8s_node.is_some() {
        notes.push("-k/-K/--k8s-node have no effect: Kubernetes metadata (k8s.*) comes from the container runtime, as with Falco's container plugin".into());
    }
    if !args.cri.is_empty() || args.disable_cri_async {
        notes.push("--cri/--disable-cri-async are older Falco flags; Falco 0.44 configures runtimes in the container plugin's init_config (engines.cri.sockets)".into());
    }
    opts.extend(args.options.iter().cloned());
    out.options = opts;
    Ok((out, notes))
}

/// `-D`, `-t`, `-T` as `rules:` selections after the config's own, and a
/// custom `-p` format as an `append_output` entry.
pub fn apply(args: &FalcoArgs, loaded: &mut Loaded) -> Vec<String> {
    let mut notes = Vec::new();
    let rules = &mut loaded.config.rules;
    for sub in &args.disable_rules {
        rules.push(RuleSelection::Disable {
            rule: Some(format!("*{sub}*")),
            tag: None,
        });
        notes.push(format!(
            "-D is an older Falco flag; Falco 0.44 spells it -o 'rules[N].disable.rule=*{sub}*'"
        ));
    }
    for tag in &args.disable_tags {
        rules.push(RuleSelection::Disable {
            rule: None,
            tag: Some(tag.clone()),
        });
        notes.push(format!(
            "-T is an older Falco flag; Falco 0.44 spells it -o rules[N].disable.tag={tag}"
        ));
    }
    if !args.only_tags.is_empty() {
        rules.push(RuleSelection::Disable {
            rule: Some("*".into()),
            tag: None,
        });
        for tag in &args.only_tags {
            rules.push(RuleSelection::Enable {
                rule: None,
                tag: Some(tag.clone()),
            });
        }
        notes.push(
            "-t is an older Falco flag; Falco 0.44 spells it -o rules[N].disable.rule=* -o rules[N+1].enable.tag=TAG".into(),
        );
    }
    if let Some(p) = &args.print_additional {
        notes.push(
            "The -p/--print option is deprecated and will be removed. Use -o append_output=... instead."
                .into(),
        );
        if !matches!(p.as_str(), "c" | "container" | "k" | "kubernetes") {
            loaded.config.append_output.push(AppendOutput {
                match_source: None,
                match_rule: None,
                match_tags: Vec::new(),
                extra_output: Some(p.clone()),
                extra_fields: Vec::new(),
                suggested_output: false,
            });
        }
    }
    notes
}
