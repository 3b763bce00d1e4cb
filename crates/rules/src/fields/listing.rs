//! `--list` output in Falco's three formats (text, markdown, JSON).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::{flags, ClassInfo, FieldInfo, FieldRegistry};

/// Output formats of `--list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    Text,
    Markdown,
    Json,
}

impl ListFormat {
    pub fn parse(s: &str) -> Option<ListFormat> {
        match s {
            "text" => Some(ListFormat::Text),
            "markdown" => Some(ListFormat::Markdown),
            "json" => Some(ListFormat::Json),
            _ => None,
        }
    }
}

const RIGHT_BLOCK: usize = 30;
const WIDTH: usize = 120;

/// The tags libsinsp shows before a description, sorted.
fn field_tags(f: &FieldInfo) -> BTreeSet<&'static str> {
    let mut tags = BTreeSet::new();
    let pairs = [
        (flags::FILTER_ONLY, "FILTER_ONLY"),
        (flags::TABLE_ONLY, "EPF_TABLE_ONLY"),
        (flags::DEPRECATED, "EPF_DEPRECATED"),
        (flags::NO_RHS, "EPF_NO_RHS"),
        (flags::NO_TRANSFORMER, "EPF_NO_TRANSFORMER"),
        (flags::IS_LIST, "EPF_IS_LIST"),
    ];
    for (bit, name) in pairs {
        if f.has(bit) {
            tags.insert(name);
        }
    }
    if f.has(flags::ARG_REQUIRED | flags::ARG_ALLOWED) {
        tags.insert(if f.has(flags::ARG_REQUIRED) {
            "ARG_REQUIRED"
        } else {
            "ARG_ALLOWED"
        });
        if f.has(flags::ARG_INDEX) {
            tags.insert("ARG_INDEX");
        }
        if f.has(flags::ARG_KEY) {
            tags.insert("ARG_KEY");
        }
    }
    tags
}

fn listed_fields(class: &ClassInfo) -> impl Iterator<Item = &'static FieldInfo> + '_ {
    class.fields.iter().filter(|f| !f.has(flags::PRINT_ONLY))
}

/// Word-wraps `text` into the right block, as libsinsp does.
fn wrap(text: &str, out: &mut String) {
    let mut len = 0;
    for word in text.split_whitespace() {
        let wl = word.len() + 1;
        if len + wl <= WIDTH - RIGHT_BLOCK {
            len += wl;
        } else {
            out.push('\n');
            out.push_str(&" ".repeat(RIGHT_BLOCK));
            len = wl;
        }
        out.push_str(word);
        out.push(' ');
    }
}

fn pad(s: &str) -> String {
    format!("{s:<RIGHT_BLOCK$}")
}

/// One class as `falco --list` prints it (empty when every field is
/// deprecated).
pub fn class_as_text(class: &ClassInfo, sources: &BTreeSet<&str>, verbose: bool) -> String {
    let mut os = String::new();
    os.push_str("-------------------------------\n");
    os.push_str(&pad("Field Class:"));
    os.push_str(class.name);
    if !class.shortdesc.is_empty() {
        let _ = write!(os, " ({})", class.shortdesc);
    }
    os.push('\n');
    if !class.desc.is_empty() {
        os.push_str(&pad("Description:"));
        wrap(class.desc, &mut os);
        os.push('\n');
    }
    if !sources.is_empty() {
        os.push_str(&pad("Event Sources:"));
        for s in sources {
            os.push_str(s);
            os.push(' ');
        }
        os.push('\n');
    }
    os.push('\n');
    let mut deprecated = 0;
    let fields: Vec<_> = listed_fields(class).collect();
    for f in &fields {
        if f.has(flags::TABLE_ONLY) {
            continue;
        }
        if f.is_deprecated() {
            deprecated += 1;
            continue;
        }
        if f.name.len() > RIGHT_BLOCK {
            os.push_str(f.name);
            os.push('\n');
            os.push_str(&" ".repeat(RIGHT_BLOCK));
        } else {
            os.push_str(&pad(f.name));
        }
        let tags = field_tags(f);
        let mut desc = f.desc.to_string();
        if !tags.is_empty() {
            desc = format!(
                "({}) {desc}",
                tags.iter().copied().collect::<Vec<_>>().join(",")
            );
        }
        if verbose {
            desc = format!("(Type: {}) {desc}", f.ty.name());
        }
        wrap(&desc, &mut os);
        os.push('\n');
    }
    if deprecated == fields.len() {
        return String::new();
    }
    os
}

pub fn class_as_markdown(class: &ClassInfo, sources: &BTreeSet<&str>) -> String {
    let mut os = format!("## Field Class: {}\n\n", class.name);
    if !class.desc.is_empty() {
        let _ = write!(os, "{}\n\n", class.desc);
    }
    if !sources.is_empty() {
        os.push_str("Event Sources: ");
        for s in sources {
            os.push_str(s);
            os.push(' ');
        }
        os.push_str("\n\n");
    }
    os.push_str("Name | Type | Description\n:----|:-----|:-----------\n");
    let fields: Vec<_> = listed_fields(class).collect();
    let mut deprecated = 0;
    for f in &fields {
        if f.has(flags::TABLE_ONLY) {
            continue;
        }
        if f.is_deprecated() {
            deprecated += 1;
            continue;
        }
        let ty = if f.is_list() {
            format!("LIST({})", f.ty.name())
        } else {
            f.ty.name().to_string()
        };
        let _ = writeln!(os, "`{}` | {} | {}", f.name, ty, f.desc);
    }
    if deprecated == fields.len() {
        return String::new();
    }
    os
}

/// A class as JSON (keys in the sorted order Falco's JSON library emits).
pub fn class_as_json(class: &ClassInfo, sources: &BTreeSet<&str>) -> Option<serde_json::Value> {
    use serde_json::{json, Map, Value};
    let fields: Vec<_> = listed_fields(class).collect();
    let mut deprecated = 0;
    let mut arr = Vec::new();
    for f in &fields {
        if f.has(flags::TABLE_ONLY) {
            continue;
        }
        if f.is_deprecated() {
            deprecated += 1;
            continue;
        }
        let argument = if f.has(flags::ARG_REQUIRED | flags::ARG_ALLOWED) {
            let mut types = Vec::new();
            if f.has(flags::ARG_INDEX) {
                types.push("INDEX");
            }
            if f.has(flags::ARG_KEY) {
                types.push("KEY");
            }
            json!({"required": f.has(flags::ARG_REQUIRED), "type": types})
        } else {
            Value::Null
        };
        let mut m = Map::new();
        m.insert("argument".into(), argument);
        m.insert("desc".into(), f.desc.into());
        m.insert("is_list".into(), f.is_list().into());
        m.insert("name".into(), f.name.into());
        m.insert("type".into(), f.ty.name().into());
        arr.push(Value::Object(m));
    }
    if deprecated == fields.len() {
        return None;
    }
    let mut root = Map::new();
    if !class.desc.is_empty() {
        root.insert("desc".into(), class.desc.into());
    }
    if !sources.is_empty() {
        root.insert("event_sources".into(), sources.iter().copied().collect());
    }
    root.insert("fields".into(), Value::Array(arr));
    root.insert("name".into(), class.name.into());
    Some(Value::Object(root))
}

/// The whole `--list` output for the given registries (in source order),
/// optionally restricted to one source.
pub fn list_fields(
    registries: &[FieldRegistry],
    source: Option<&str>,
    verbose: bool,
    names_only: bool,
    format: ListFormat,
) -> String {
    let wanted = |r: &&FieldRegistry| source.is_none_or(|s| s == r.source());
    let key = |c: &ClassInfo| format!("{}{}", c.name, c.shortdesc);
    let mut class_sources: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for r in registries.iter().filter(wanted) {
        for c in r.classes().filter(|c| !c.hidden) {
            class_sources.entry(key(c)).or_default().insert(r.source());
        }
    }
    let mut seen = BTreeSet::new();
    let mut out = String::new();
    let mut json_classes = Vec::new();
    let mut names = Vec::new();
    for r in registries.iter().filter(wanted) {
        for c in r.classes().filter(|c| !c.hidden) {
            if !seen.insert(key(c)) {
                continue;
            }
            let sources = &class_sources[&key(c)];
            if names_only {
                for f in listed_fields(c) {
                    if !f.has(flags::TABLE_ONLY) && !f.is_deprecated() {
                        names.push(f.name);
                    }
                }
                continue;
            }
            match format {
                ListFormat::Text => {
                    out.push_str(&class_as_text(c, sources, verbose));
                    out.push('\n');
                }
                ListFormat::Markdown => {
                    out.push_str(&class_as_markdown(c, sources));
                    out.push('\n');
                }
                ListFormat::Json => json_classes.extend(class_as_json(c, sources)),
            }
        }
    }
    if names_only && format != ListFormat::Json {
        for n in names {
            out.push_str(n);
            out.push('\n');
        }
        return out;
    }
    if format == ListFormat::Json {
        let root = if names_only {
            serde_json::json!({ "fieldnames": names })
        } else if !json_classes.is_empty() {
            serde_json::json!({ "fieldclasses": json_classes })
        } else {
            return out;
        };
        out.push_str(&serde_json::to_string_pretty(&root).unwrap_or_default());
        out.push('\n');
    }
    out
}
