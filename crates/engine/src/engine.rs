//! The ruleset: compiled rules indexed by event type, evaluated per event.

use std::sync::Arc;

use peregrine_alert::{Alert, FieldValue, Priority};
use peregrine_event::RawEvent;
use peregrine_state::State;

use crate::compile::{self, event_types, Node, Slots, TypeSet};
use crate::cond::Cond;
use crate::eval::eval;
use crate::fields::{ContainerLookup, Ctx};
use crate::output::{self, OutputPart, Piece};
use crate::value::Arena;

/// A rule as the front end hands it over: condition fully expanded.
#[derive(Debug, Clone)]
pub struct RuleInput {
    pub name: String,
    pub condition: Cond,
    pub output: Vec<OutputPart>,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub source: String,
    pub enabled: bool,
    /// The rule asks for a capture when it matches (`capture: true`).
    pub capture: bool,
    /// How long that capture lasts at least, in ms; 0 for the default.
    pub capture_duration_ms: u32,
}

/// What the rules that matched one event ask of a rule-triggered capture
/// (Falco's `capture` config).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Matched {
    /// Rules that matched.
    pub rules: u32,
    /// One of them has `capture: true`.
    pub capture: bool,
    /// The longest `capture_duration` among them, in ms.
    pub longest_capture_ms: u32,
    /// One of them has no `capture_duration` (the default applies).
    pub default_capture: bool,
}

#[derive(Debug)]
struct Rule {
    name: Arc<str>,
    node: Node,
    output: Vec<Piece>,
    priority: Priority,
    tags: Arc<[String]>,
    source: Arc<str>,
    types: TypeSet,
    enabled: bool,
    capture: bool,
    capture_duration_ms: u32,
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Falco's `rule_matching`: `false` = first matching rule wins.
    pub match_all: bool,
    /// Rules below this priority are not evaluated (Falco's `priority`).
    pub min_priority: Priority,
    pub hostname: Arc<str>,
}

impl Default for EngineConfig {
    fn default() -> EngineConfig {
        EngineConfig {
            match_all: false,
            min_priority: Priority::Debug,
            hostname: Arc::from(""),
        }
    }
}

/// Why a rule could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub rule: String,
    pub message: String,
}

/// Per-rule counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCount {
    pub rule: Arc<str>,
    pub priority: Priority,
    pub matches: u64,
}

pub struct Engine {
    slots: Slots,
    rules: Vec<Rule>,
    /// Enabled rule ids per event type, in rule order.
    index: Vec<Box<[u32]>>,
    arena: Arena,
    config: EngineConfig,
    matches: Vec<u64>,
    evaluated: u64,
}

/// One event handed to the engine.
pub struct EventInput<'a> {
    pub ev: &'a RawEvent<'a>,
    pub num: u64,
    pub cpu: u16,
    /// Timestamp of the folded enter event, when known.
    pub enter_ts: u64,
}

impl Engine {
    pub fn new(rules: Vec<RuleInput>, config: EngineConfig) -> Result<Engine, Vec<CompileError>> {
        let mut slots = Slots::default();
        let mut compiled = Vec::with_capacity(rules.len());
        let mut errors = Vec::new();
        for r in rules {
            let node = compile::compile(&r.condition, &mut slots);
            let out = output::compile(&r.output, &mut slots);
            match (node, out) {
                (Ok(node), Ok(output)) => compiled.push(Rule {
                    types: event_types(&r.condition),
                    name: r.name.into(),
                    node,
                    output,
                    priority: r.priority,
                    tags: r.tags.into(),
                    source: r.source.into(),
                    enabled: r.enabled,
                    capture: r.capture,
                    capture_duration_ms: r.capture_duration_ms,
                }),
                (Err(e), _) | (_, Err(e)) => errors.push(CompileError {
                    rule: r.name,
                    message: e,
                }),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut e = Engine {
            arena: Arena::new(slots.len()),
            slots,
            matches: vec![0; compiled.len()],
            rules: compiled,
            index: Vec::new(),
            config,
            evaluated: 0,
        };
        e.reindex();
        Ok(e)
    }

    fn reindex(&mut self) {
        let n = peregrine_event::table::EVENT_MAX;
        let mut idx: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (i, r) in self.rules.iter().enumerate() {
            if !r.enabled || r.priority > self.config.min_priority || &*r.source != "syscall" {
                continue;
            }
            for t in r.types.iter() {
                idx[t as usize].push(i as u32);
            }
        }
        self.index = idx.into_iter().map(Vec::into_boxed_slice).collect();
    }

    /// Enables or disables rules for which `pred(name, tags)` holds.
    pub fn set_enabled(&mut self, enabled: bool, pred: impl Fn(&str, &[String]) -> bool) {
        for r in &mut self.rules {
            if pred(&r.name, &r.tags) {
                r.enabled = enabled;
            }
        }
        self.reindex();
    }

    /// Event types any enabled rule can match (what the kernel must send).
    pub fn interesting_types(&self) -> TypeSet {
        let mut s = TypeSet::none();
        for (t, rules) in self.index.iter().enumerate() {
            if !rules.is_empty() {
                s.insert(t as u16);
            }
        }
        s
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    pub fn enabled_rule_count(&self) -> usize {
        self.rules.iter().filter(|r| r.enabled).count()
    }

    /// Events evaluated against at least one rule.
    pub fn evaluated(&self) -> u64 {
        self.evaluated
    }

    pub fn counts(&self) -> Vec<RuleCount> {
        self.rules
            .iter()
            .zip(&self.matches)
            .map(|(r, m)| RuleCount {
                rule: r.name.clone(),
                priority: r.priority,
                matches: *m,
            })
            .collect()
    }

    /// Evaluates the rules indexed under the event's type; calls `on_alert`
    /// for each match (only the first unless `match_all`).
    pub fn process(
        &mut self,
        input: &EventInput<'_>,
        state: &State,
        containers: &dyn ContainerLookup,
        on_alert: &mut dyn FnMut(Alert),
    ) -> Matched {
        let mut matched = Matched::default();
        let ty = input.ev.event_type() as usize;
        let Some(rules) = self.index.get(ty) else {
            return matched;
        };
        if rules.is_empty() {
            return matched;
        }
        self.evaluated += 1;
        self.arena.next_event();
        let ctx = Ctx::new(input, state, containers, &self.config.hostname);
        for &ri in rules.iter() {
            let rule = &self.rules[ri as usize];
            if !eval(&rule.node, &self.slots, &mut self.arena, &ctx) {
                continue;
            }
            self.matches[ri as usize] += 1;
            matched.rules += 1;
            matched.capture |= rule.capture;
            matched.longest_capture_ms = matched.longest_capture_ms.max(rule.capture_duration_ms);
            matched.default_capture |= rule.capture_duration_ms == 0;
            let mut text = String::with_capacity(256);
            let mut fields: Vec<(String, FieldValue)> = Vec::new();
            output::render(
                &rule.output,
                &self.slots,
                &mut self.arena,
                &ctx,
                &mut text,
                &mut fields,
            );
            on_alert(Alert {
                time_ns: input.ev.ts(),
                rule: rule.name.clone(),
                priority: rule.priority,
                source: rule.source.clone(),
                tags: rule.tags.clone(),
                output: text,
                output_fields: fields,
                hostname: self.config.hostname.clone(),
            });
            if !self.config.match_all {
                break;
            }
        }
        matched
    }
}
