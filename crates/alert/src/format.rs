//! Falco's alert lines: the text line (`falco_formats::format_event` with
//! `json_output: false`), the JSON document (nlohmann::json, so every object
//! has its keys sorted) and the internal-message forms of
//! `falco_outputs::handle_msg` (metrics snapshots, drop alerts).

use crate::json::{push_escaped, write_str, write_value};
use crate::time::{local_offset_secs, write_iso8601, write_rfc3339, write_time_of_day};
use crate::{Alert, FieldValue, InternalAlert};

/// How alerts are rendered; the `json_*` and `time_format_iso_8601` keys of
/// falco.yaml, with Falco's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertFormat {
    pub json_output: bool,
    pub json_include_output_property: bool,
    pub json_include_tags_property: bool,
    pub json_include_message_property: bool,
    pub json_include_output_fields_property: bool,
    pub time_format_iso_8601: bool,
}

impl Default for AlertFormat {
    fn default() -> AlertFormat {
        AlertFormat {
            json_output: false,
            json_include_output_property: true,
            json_include_tags_property: true,
            json_include_message_property: false,
            json_include_output_fields_property: true,
            time_format_iso_8601: false,
        }
    }
}

impl AlertFormat {
    pub fn json() -> AlertFormat {
        AlertFormat {
            json_output: true,
            ..AlertFormat::default()
        }
    }

    /// The line an output writes for `alert` (no trailing newline).
    pub fn format(&self, alert: &Alert) -> String {
        let mut out = String::with_capacity(256 + alert.output.len() * 2);
        self.format_into(alert, &mut out);
        out
    }

    pub fn format_into(&self, alert: &Alert, out: &mut String) {
        if self.json_output {
            self.write_json(alert, out);
        } else {
            self.write_text_output(alert, out);
        }
    }

    /// `time: Priority message`: Falco's `output`.
    fn write_text_output(&self, alert: &Alert, out: &mut String) {
        if self.time_format_iso_8601 {
            write_iso8601(out, alert.time_ns);
        } else {
            write_time_of_day(out, alert.time_ns, local_offset_secs());
        }
        out.push_str(": ");
        out.push_str(alert.priority.as_str());
        out.push(' ');
        out.push_str(&alert.output);
    }

    fn write_json(&self, alert: &Alert, out: &mut String) {
        // Keys in nlohmann's (sorted) order: hostname, message, output,
        // output_fields, priority, rule, source, tags, time.
        out.push_str("{\"hostname\":");
        write_str(out, &alert.hostname);
        if self.json_include_message_property {
            out.push_str(",\"message\":");
            write_str(out, &alert.output);
        }
        if self.json_include_output_property {
            // The prefix (time, priority) needs no escaping.
            out.push_str(",\"output\":\"");
            if self.time_format_iso_8601 {
                write_iso8601(out, alert.time_ns);
            } else {
                write_time_of_day(out, alert.time_ns, local_offset_secs());
            }
            out.push_str(": ");
            out.push_str(alert.priority.as_str());
            out.push(' ');
            push_escaped(out, &alert.output);
            out.push('"');
        }
        if self.json_include_output_fields_property {
            out.push_str(",\"output_fields\":");
            let time_key = if self.time_format_iso_8601 {
                "evt.time.iso8601"
            } else {
                "evt.time"
            };
            let time_value = FieldValue::U64(alert.time_ns);
            write_sorted_fields(out, &alert.output_fields, Some((time_key, &time_value)));
        }
        out.push_str(",\"priority\":");
        write_str(out, alert.priority.as_str());
        out.push_str(",\"rule\":");
        write_str(out, &alert.rule);
        out.push_str(",\"source\":");
        write_str(out, &alert.source);
        if self.json_include_tags_property {
            out.push_str(",\"tags\":[");
            // Falco keeps tags in a std::set: sorted, unique.
            let mut tags: Vec<&str> = alert.tags.iter().map(String::as_str).collect();
            tags.sort_unstable();
            tags.dedup();
            for (i, t) in tags.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, t);
            }
            out.push(']');
        }
        out.push_str(",\"time\":\"");
        write_rfc3339(out, alert.time_ns);
        out.push_str("\"}");
    }

    /// The line for an internal message (Falco's `handle_msg`): JSON with
    /// `source: internal` and no tags, or `time: Priority msg (k=v …)`.
    pub fn format_internal(&self, msg: &InternalAlert) -> String {
        let mut out = String::with_capacity(256 + msg.output_fields.len() * 48);
        if self.json_output {
            out.push_str("{\"hostname\":");
            write_str(&mut out, &msg.hostname);
            out.push_str(",\"output\":");
            write_str(&mut out, &msg.output);
            out.push_str(",\"output_fields\":");
            write_sorted_fields(&mut out, &msg.output_fields, None);
            out.push_str(",\"priority\":");
            write_str(&mut out, msg.priority.as_str());
            out.push_str(",\"rule\":");
            write_str(&mut out, &msg.rule);
            out.push_str(",\"source\":\"internal\",\"time\":\"");
            write_rfc3339(&mut out, msg.time_ns);
            out.push_str("\"}");
        } else {
            write_time_of_day(&mut out, msg.time_ns, local_offset_secs());
            out.push_str(": ");
            out.push_str(msg.priority.as_str());
            out.push(' ');
            out.push_str(&msg.output);
            out.push_str(" (");
            for (i, (k, v)) in sorted_unique(&msg.output_fields, None).iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push('=');
                write_value(&mut out, v);
            }
            out.push(')');
        }
        out
    }
}

/// Fields sorted by key (byte order, like std::map), the last of equal keys
/// winning, `extra` applied last.
fn sorted_unique<'a>(
    fields: &'a [(String, FieldValue)],
    extra: Option<(&'a str, &'a FieldValue)>,
) -> Vec<(&'a str, &'a FieldValue)> {
    let mut v: Vec<(&str, &FieldValue)> = Vec::with_capacity(fields.len() + 1);
    v.extend(fields.iter().map(|(k, val)| (k.as_str(), val)));
    v.extend(extra);
    // Stable sort keeps insertion order among equal keys; reversing first
    // makes dedup (which keeps the first) keep the last written.
    v.reverse();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v.dedup_by(|a, b| a.0 == b.0);
    v
}

fn write_sorted_fields(
    out: &mut String,
    fields: &[(String, FieldValue)],
    extra: Option<(&str, &FieldValue)>,
) {
    out.push('{');
    for (i, (k, v)) in sorted_unique(fields, extra).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, k);
        out.push(':');
        write_value(out, v);
    }
    out.push('}');
}
