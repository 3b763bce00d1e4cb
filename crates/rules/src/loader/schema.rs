//! The JSON Schema of rules files (Falco's, for `--rule-schema`) and the
//! validation Falco runs with it: YAML scalars are weakly typed (`"true"`
//! is a boolean, `"12"` an integer), and violations are reported as
//! `failed for <root>[0][priority]: …`, innermost first. Schema violations
//! are reported beside the load result; they do not fail a load.

use peregrine_yaml::{Kind, Node};

/// Falco 0.44's rules-file schema (draft-06).
pub const RULE_SCHEMA: &str = r##"{
    "$schema": "http://json-schema.org/draft-06/schema#",
    "type": "array",
    "items": {
        "$ref": "#/definitions/FalcoRule"
    },
    "definitions": {
        "FalcoRule": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "required_engine_version": { "type": "string" },
                "required_plugin_versions": {
                    "type": "array",
                    "items": { "$ref": "#/definitions/RequiredPluginVersion" }
                },
                "macro": { "type": "string" },
                "condition": { "type": "string" },
                "list": { "type": "string" },
                "items": {
                    "type": "array",
                    "items": { "$ref": "#/definitions/Item" }
                },
                "rule": { "type": "string" },
                "desc": { "type": "string" },
                "enabled": { "type": "boolean" },
                "output": { "type": "string" },
                "append": { "type": "boolean" },
                "priority": { "$ref": "#/definitions/Priority" },
                "capture": { "type": "boolean" },
                "capture_duration": { "type": "integer" },
                "source": { "type": "string" },
                "exceptions": {
                    "type": "array",
                    "items": { "$ref": "#/definitions/Exception" }
                },
                "override": { "$ref": "#/definitions/Override" },
                "tags": {
                    "type": "array",
                    "items": { "type": "string" }
                },
                "warn_evttypes": { "type": "boolean" },
                "skip-if-unknown-filter": { "type": "boolean" }
            },
            "required": [],
            "title": "FalcoRule"
        },
        "Item": {
            "anyOf": [
                { "type": "integer" },
                { "type": "string" }
            ],
            "title": "Item"
        },
        "Exception": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "name": { "type": "string" },
                "fields": {},
                "comps": {},
                "values": {}
            },
            "required": ["name"],
            "title": "Exception"
        },
        "Priority": {
            "type": "string",
            "enum": ["EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "INFORMATIONAL", "DEBUG"],
            "title": "Priority"
        },
        "OverriddenItem": {
            "type": "string",
            "enum": ["append", "replace"],
            "title": "OverriddenItem"
        },
        "Override": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "items": { "$ref": "#/definitions/OverriddenItem" },
                "desc": { "$ref": "#/definitions/OverriddenItem" },
                "condition": { "$ref": "#/definitions/OverriddenItem" },
                "output": { "$ref": "#/definitions/OverriddenItem" },
                "priority": { "$ref": "#/definitions/OverriddenItem" },
                "enabled": { "$ref": "#/definitions/OverriddenItem" },
                "exceptions": { "$ref": "#/definitions/OverriddenItem" },
                "capture": { "$ref": "#/definitions/OverriddenItem" },
                "capture_duration": { "$ref": "#/definitions/OverriddenItem" },
                "tags": { "$ref": "#/definitions/OverriddenItem" },
                "warn_evttypes": { "$ref": "#/definitions/OverriddenItem" },
                "skip-if-unknown-filter": { "$ref": "#/definitions/OverriddenItem" }
            },
            "minProperties": 1,
            "title": "Override"
        },
        "RequiredPluginVersion": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "name": { "type": "string" },
                "version": { "type": "string" },
                "alternatives": {
                    "type": "array",
                    "items": { "$ref": "#/definitions/Alternative" }
                }
            },
            "required": ["name", "version"],
            "title": "RequiredPluginVersion"
        },
        "Alternative": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "name": { "type": "string" },
                "version": { "type": "string" }
            },
            "required": ["name", "version"],
            "title": "Alternative"
        }
    }
}
"##;

#[derive(Clone, Copy)]
enum Ty {
    Str,
    Bool,
    Int,
    Array,
    Object,
}

enum Schema {
    Any,
    Typed(Ty),
    Enum(&'static [&'static str]),
    ArrayOf(&'static Schema),
    AnyOf(&'static [Schema]),
    Ref(&'static Schema),
    Object {
        /// Sorted by name (the validator visits properties in that order).
        props: &'static [(&'static str, Schema)],
        required: &'static [&'static str],
        min_props: usize,
    },
}

const PRIORITIES: &[&str] = &[
    "EMERGENCY",
    "ALERT",
    "CRITICAL",
    "ERROR",
    "WARNING",
    "NOTICE",
    "INFO",
    "INFORMATIONAL",
    "DEBUG",
];
const OVERRIDE_OPS: &[&str] = &["append", "replace"];

static ITEM: Schema = Schema::AnyOf(&[Schema::Typed(Ty::Int), Schema::Typed(Ty::Str)]);
static STRING: Schema = Schema::Typed(Ty::Str);
static ALTERNATIVE: Schema = Schema::Object {
    props: &[
        ("name", Schema::Typed(Ty::Str)),
        ("version", Schema::Typed(Ty::Str)),
    ],
    required: &["name", "version"],
    min_props: 0,
};
static PLUGIN_VERSION: Schema = Schema::Object {
    props: &[
        ("alternatives", Schema::ArrayOf(&ALTERNATIVE)),
        ("name", Schema::Typed(Ty::Str)),
        ("version", Schema::Typed(Ty::Str)),
    ],
    required: &["name", "version"],
    min_props: 0,
};
static EXCEPTION: Schema = Schema::Object {
    props: &[
        ("comps", Schema::Any),
        ("fields", Schema::Any),
        ("name", Schema::Typed(Ty::Str)),
        ("values", Schema::Any),
    ],
    required: &["name"],
    min_props: 0,
};
static OVERRIDE: Schema = Schema::Object {
    props: &[
        ("capture", Schema::Enum(OVERRIDE_OPS)),
        ("capture_duration", Schema::Enum(OVERRIDE_OPS)),
        ("condition", Schema::Enum(OVERRIDE_OPS)),
        ("desc", Schema::Enum(OVERRIDE_OPS)),
        ("enabled", Schema::Enum(OVERRIDE_OPS)),
        ("exceptions", Schema::Enum(OVERRIDE_OPS)),
        ("items", Schema::Enum(OVERRIDE_OPS)),
        ("output", Schema::Enum(OVERRIDE_OPS)),
        ("priority", Schema::Enum(OVERRIDE_OPS)),
        ("skip-if-unknown-filter", Schema::Enum(OVERRIDE_OPS)),
        ("tags", Schema::Enum(OVERRIDE_OPS)),
        ("warn_evttypes", Schema::Enum(OVERRIDE_OPS)),
    ],
    required: &[],
    min_props: 1,
};
static RULE_ITEM: Schema = Schema::Object {
    props: &[
        ("append", Schema::Typed(Ty::Bool)),
        ("capture", Schema::Typed(Ty::Bool)),
        ("capture_duration", Schema::Typed(Ty::Int)),
        ("condition", Schema::Typed(Ty::Str)),
        ("desc", Schema::Typed(Ty::Str)),
        ("enabled", Schema::Typed(Ty::Bool)),
        ("exceptions", Schema::ArrayOf(&EXCEPTION)),
        ("items", Schema::ArrayOf(&ITEM)),
        ("list", Schema::Typed(Ty::Str)),
        ("macro", Schema::Typed(Ty::Str)),
        ("output", Schema::Typed(Ty::Str)),
        ("override", Schema::Ref(&OVERRIDE)),
        ("priority", Schema::Enum(PRIORITIES)),
        ("required_engine_version", Schema::Typed(Ty::Str)),
        ("required_plugin_versions", Schema::ArrayOf(&PLUGIN_VERSION)),
        ("rule", Schema::Typed(Ty::Str)),
        ("skip-if-unknown-filter", Schema::Typed(Ty::Bool)),
        ("source", Schema::Typed(Ty::Str)),
        ("tags", Schema::ArrayOf(&STRING)),
        ("warn_evttypes", Schema::Typed(Ty::Bool)),
    ],
    required: &[],
    min_props: 0,
};

fn is_string(n: &Node) -> bool {
    match &n.kind {
        Kind::Scalar { .. } => !n.is_null(),
        Kind::Seq(s) => s.is_empty(),
        Kind::Map(m) => m.is_empty(),
    }
}

fn scalar_text(n: &Node) -> Option<&str> {
    if n.is_null() {
        return None;
    }
    n.as_str()
}

fn has_type(n: &Node, ty: Ty) -> bool {
    match ty {
        Ty::Str => is_string(n),
        Ty::Bool => matches!(scalar_text(n), Some("true" | "false")),
        Ty::Int => scalar_text(n).is_some_and(|s| {
            let t = s.trim_start();
            let t = t.strip_prefix(['+', '-']).unwrap_or(t);
            !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())
        }),
        Ty::Array => match &n.kind {
            Kind::Seq(_) => true,
            Kind::Map(m) => m.is_empty(),
            _ => false,
        },
        Ty::Object => match &n.kind {
            Kind::Map(_) => true,
            Kind::Seq(s) => s.is_empty(),
            _ => false,
        },
    }
}

struct Validator {
    errors: Vec<String>,
}

impl Validator {
    fn push(&mut self, path: &str, msg: &str) {
        self.errors.push(format!("failed for {path}: {msg}"));
    }

    fn type_error(&mut self, path: &str) -> bool {
        self.push(path, "Value type not permitted by 'type' constraint.");
        false
    }

    fn validate(&mut self, n: &Node, s: &Schema, path: &str) -> bool {
        match s {
            Schema::Any => true,
            Schema::Ref(inner) => self.validate(n, inner, path),
            Schema::Typed(ty) => has_type(n, *ty) || self.type_error(path),
            Schema::Enum(values) => {
                let mut ok = true;
                if !has_type(n, Ty::Str) {
                    ok = self.type_error(path);
                }
                let text = scalar_text(n).unwrap_or("");
                if !(matches!(n.kind, Kind::Scalar { .. }) && values.contains(&text)) {
                    self.push(path, "Failed to match against any enum values.");
                    ok = false;
                }
                ok
            }
            Schema::AnyOf(options) => {
                let mut child = Validator { errors: Vec::new() };
                if options.iter().any(|o| child.validate(n, o, path)) {
                    return true;
                }
                self.errors.extend(child.errors);
                self.push(
                    path,
                    "Failed to validate against any schemas allowed by anyOf constraint.",
                );
                false
            }
            Schema::ArrayOf(item) => {
                if !has_type(n, Ty::Array) {
                    return self.type_error(path);
                }
                let mut ok = true;
                for (i, child) in n.as_seq().unwrap_or(&[]).iter().enumerate() {
                    if !self.validate(child, item, &format!("{path}[{i}]")) {
                        self.push(path, &format!("Failed to validate item #{i} in array."));
                        ok = false;
                    }
                }
                ok
            }
            Schema::Object {
                props,
                required,
                min_props,
            } => {
                let mut ok = has_type(n, Ty::Object) || self.type_error(path);
                let entries: &[(Node, Node)] = n.as_map().unwrap_or(&[]);
                let key = |k: &Node| k.as_str().unwrap_or("").to_string();
                if n.as_map().is_some() {
                    if entries.len() < *min_props {
                        self.push(
                            path,
                            &format!("Object should have no fewer than {min_props} properties."),
                        );
                        ok = false;
                    }
                    for (name, sub) in props.iter() {
                        if let Some((_, v)) = entries.iter().find(|(k, _)| key(k) == *name) {
                            if !self.validate(v, sub, &format!("{path}[{name}]")) {
                                self.push(
                                    path,
                                    &format!(
                                        "Failed to validate against schema associated with property name '{name}'."
                                    ),
                                );
                                ok = false;
                            }
                        }
                    }
                    if let Some((k, _)) = entries
                        .iter()
                        .find(|(k, _)| !props.iter().any(|(p, _)| *p == key(k)))
                    {
                        self.push(
                            path,
                            &format!(
                                "Object contains a property that could not be validated using 'properties' or 'additionalProperties' constraints: '{}'.",
                                key(k)
                            ),
                        );
                        ok = false;
                    }
                    for r in required.iter() {
                        if !entries.iter().any(|(k, _)| key(k) == *r) {
                            self.push(path, &format!("Missing required property '{r}'."));
                            ok = false;
                        }
                    }
                }
                ok
            }
        }
    }
}

/// Validates one YAML document of a rules file: `["ok"]` or the
/// violations.
pub fn validate_document(doc: &Node) -> Vec<String> {
    let mut v = Validator { errors: Vec::new() };
    if v.validate(doc, &Schema::ArrayOf(&RULE_ITEM), "<root>") {
        vec!["ok".to_string()]
    } else {
        v.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str) -> Vec<String> {
        validate_document(&peregrine_yaml::parse(src).unwrap()[0])
    }

    #[test]
    fn weak_types_and_messages() {
        assert_eq!(
            check("- rule: r\n  priority: INFO\n  enabled: false\n"),
            vec!["ok"]
        );
        let e = check("- rule: r\n  priority: info\n");
        assert_eq!(
            e[0],
            "failed for <root>[0][priority]: Failed to match against any enum values."
        );
        assert!(e
            .last()
            .unwrap()
            .contains("Failed to validate item #0 in array."));
        assert_ne!(check("- rule: r\n  capture: \"yes\"\n"), vec!["ok"]);
        assert_ne!(check("- list: l\n  override_x: 1\n"), vec!["ok"]);
        assert!(serde_json::from_str::<serde_json::Value>(RULE_SCHEMA).is_ok());
    }
}
