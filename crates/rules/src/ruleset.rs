//! The loaded ruleset: what the engine compiles and runs, plus the rule
//! selection Falco offers (enable/disable by name, pattern or tag, per
//! named ruleset).

use std::collections::BTreeSet;

use peregrine_alert::Priority;

use crate::ast::Expr;
use crate::evttypes::EventTypeSet;
use crate::loader::PluginRequirement;
use crate::loader::Version;
use crate::output::OutputTemplate;

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Position in the ruleset (Falco's rule id), in first-definition order.
    pub id: usize,
    pub name: String,
    pub description: String,
    /// `syscall`, `k8s_audit`, …
    pub source: String,
    pub priority: Priority,
    /// Tags as Falco keeps them: sorted, without duplicates (the order of
    /// `tags` in JSON alerts and `-L` output).
    pub tags: Vec<String>,
    /// Tags in the order the rules file lists them.
    pub tags_as_written: Vec<String>,
    /// Enabled in the file (`enabled:`), before any selection.
    pub enabled: bool,
    /// The condition with macros inlined, lists expanded and exceptions
    /// appended: what to evaluate.
    pub condition: Expr,
    /// The condition text after overrides/appends, before expansion
    /// (describe JSON `info.condition`).
    pub condition_raw: String,
    /// `condition` printed canonically (`details.condition_compiled`).
    pub condition_compiled: String,
    /// The output text after appends (describe `info.output`).
    pub output_raw: String,
    /// The output after extra formats and `%container.info` removal
    /// (`details.output_compiled`): what alerts render.
    pub output: String,
    pub output_template: OutputTemplate,
    /// Extra output fields configured for this rule: key, template, raw.
    pub extra_output_fields: Vec<(String, OutputTemplate, bool)>,
    /// Fields used by the rule's exceptions.
    pub exception_fields: BTreeSet<String>,
    /// Names and comparison operators of the rule's exceptions.
    pub exception_names: BTreeSet<String>,
    pub exception_operators: BTreeSet<String>,
    /// The event types the condition can match (libsinsp's inference; the
    /// engine's index).
    pub event_types: EventTypeSet,
    pub capture: bool,
    /// Milliseconds (0: the configured default).
    pub capture_duration: u32,
    pub warn_evttypes: bool,
    pub skip_if_unknown_filter: bool,
}

/// A compiled macro (for listings and describe output).
#[derive(Debug, Clone)]
pub struct Macro {
    pub name: String,
    /// Condition text after appends.
    pub condition_raw: String,
    /// Condition with other macros inlined.
    pub condition: Expr,
    pub used: bool,
}

/// A compiled list (references to earlier lists expanded one level, as
/// Falco does).
#[derive(Debug, Clone)]
pub struct List {
    pub name: String,
    /// Items as written (after appends).
    pub items: Vec<String>,
    pub items_compiled: Vec<String>,
    pub used: bool,
}

/// How a rule name pattern matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameMatch {
    /// The whole name (an empty pattern matches every rule).
    Exact,
    /// Anywhere in the name (an empty pattern matches every rule).
    Substring,
    /// `*` matches any run of characters (Falco's `matches_wildcard`).
    Wildcard,
}

/// The loaded rules with their selection state.
#[derive(Debug, Clone, Default)]
pub struct Ruleset {
    pub rules: Vec<Rule>,
    pub macros: Vec<Macro>,
    pub lists: Vec<List>,
    /// The highest `required_engine_version` seen.
    pub required_engine_version: Option<Version>,
    /// Each entry: a plugin requirement and its alternatives.
    pub required_plugin_versions: Vec<Vec<PluginRequirement>>,
    ruleset_names: Vec<String>,
    /// Per ruleset id, the enabled flag of each rule.
    selections: Vec<Vec<bool>>,
}

/// Falco's name for ruleset 0.
pub const DEFAULT_RULESET: &str = "falco-default-ruleset";

/// Falco's `matches_wildcard`: `*` matches greedily at the first
/// occurrence of the next literal (no backtracking).
pub fn matches_wildcard(pattern: &str, s: &str) -> bool {
    let (mut p, mut s) = (pattern, s);
    loop {
        let Some(star) = p.find('*') else {
            return p == s;
        };
        if star == 0 {
            let Some(next) = p.find(|c| c != '*') else {
                return true;
            };
            p = &p[next..];
            let lit = &p[..p.find('*').unwrap_or(p.len())];
            let Some(at) = s.find(lit) else {
                return false;
            };
            p = &p[lit.len()..];
            s = &s[at + lit.len()..];
        } else {
            if s.len() < star || p[..star] != s[..star] {
                return false;
            }
            p = &p[star..];
            s = &s[star..];
        }
    }
}

impl Ruleset {
    pub(crate) fn new(
        rules: Vec<Rule>,
        macros: Vec<Macro>,
        lists: Vec<List>,
        default_enabled: Vec<bool>,
    ) -> Ruleset {
        Ruleset {
            rules,
            macros,
            lists,
            required_engine_version: None,
            required_plugin_versions: Vec::new(),
            ruleset_names: vec![DEFAULT_RULESET.to_string()],
            selections: vec![default_enabled],
        }
    }

    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// The id of a named ruleset, created (all rules disabled) if new.
    pub fn ruleset_id(&mut self, name: &str) -> usize {
        if let Some(i) = self.ruleset_names.iter().position(|n| n == name) {
            return i;
        }
        self.ruleset_names.push(name.to_string());
        self.ensure(self.ruleset_names.len() - 1);
        self.ruleset_names.len() - 1
    }

    fn ensure(&mut self, ruleset: usize) {
        while self.selections.len() <= ruleset {
            self.selections.push(vec![false; self.rules.len()]);
        }
        while self.ruleset_names.len() <= ruleset {
            self.ruleset_names
                .push(format!("ruleset-{}", self.ruleset_names.len()));
        }
    }

    /// Enables or disables the rules whose name matches `pattern`.
    pub fn enable(&mut self, pattern: &str, how: NameMatch, enabled: bool, ruleset: usize) {
        self.ensure(ruleset);
        for (i, r) in self.rules.iter().enumerate() {
            let hit = match how {
                NameMatch::Exact => pattern.is_empty() || r.name == pattern,
                NameMatch::Substring => pattern.is_empty() || r.name.contains(pattern),
                NameMatch::Wildcard => matches_wildcard(pattern, &r.name),
            };
            if hit {
                self.selections[ruleset][i] = enabled;
            }
        }
    }

    /// Enables or disables the rules having at least one of `tags`.
    pub fn enable_tags<S: AsRef<str>>(&mut self, tags: &[S], enabled: bool, ruleset: usize) {
        self.ensure(ruleset);
        for (i, r) in self.rules.iter().enumerate() {
            if tags
                .iter()
                .any(|t| r.tags.iter().any(|rt| rt == t.as_ref()))
            {
                self.selections[ruleset][i] = enabled;
            }
        }
    }

    pub fn is_enabled(&self, rule_id: usize, ruleset: usize) -> bool {
        self.selections
            .get(ruleset)
            .and_then(|s| s.get(rule_id))
            .copied()
            .unwrap_or(false)
    }

    /// Number of enabled rules in `ruleset`.
    pub fn enabled_count(&self, ruleset: usize) -> usize {
        self.selections
            .get(ruleset)
            .map(|s| s.iter().filter(|b| **b).count())
            .unwrap_or(0)
    }

    /// The enabled rules of `ruleset`, in rule order.
    pub fn enabled_rules(&self, ruleset: usize) -> impl Iterator<Item = &Rule> {
        self.rules
            .iter()
            .filter(move |r| self.is_enabled(r.id, ruleset))
    }
}

#[cfg(test)]
mod tests {
    use super::matches_wildcard;

    #[test]
    fn wildcards_match_like_falco() {
        assert!(matches_wildcard("*", "anything"));
        assert!(matches_wildcard("first actual rule", "first actual rule"));
        assert!(matches_wildcard("*rule", "first actual rule"));
        assert!(matches_wildcard("*second*r*", "second actual rule"));
        assert!(!matches_wildcard("*second*r*", "first actual rule"));
        assert!(matches_wildcard("Write*", "Write below etc"));
        assert!(!matches_wildcard("abc", "abcd"));
    }
}
