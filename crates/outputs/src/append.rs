//! `append_output` entries (falco.yaml): extra text and fields added to
//! matching rules' outputs. The engine applies them when it compiles rule
//! outputs; these are only the config types.

/// One `append_output` entry. An entry matches a rule when every given
/// condition holds (source equal, rule name equal, rule has all tags).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppendOutput {
    pub match_source: Option<String>,
    pub match_rule: Option<String>,
    pub match_tags: Vec<String>,
    /// Text appended to the output template (`extra_output`).
    pub extra_output: Option<String>,
    /// `extra_fields`: `name: format` entries (rendered as strings) and bare
    /// field names (raw, typed values), in order.
    pub extra_fields: Vec<ExtraField>,
    /// `suggested_output`: also append the fields a rule's output suggests
    /// (Falco: `%field` of its condition that the output lacks).
    pub suggested_output: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtraField {
    /// `- name: "%proc.name and more"`: a formatted string.
    Formatted { name: String, format: String },
    /// `- proc.name`: the raw field, typed.
    Raw(String),
}

impl AppendOutput {
    pub fn matches(&self, source: &str, rule: &str, tags: &[String]) -> bool {
        self.match_source.as_deref().is_none_or(|s| s == source)
            && self.match_rule.as_deref().is_none_or(|r| r == rule)
            && self.match_tags.iter().all(|t| tags.contains(t))
    }
}
