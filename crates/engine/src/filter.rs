//! One compiled condition on its own: the filter of `peregrine events
//! CAPTURE FILTER` (sysdig's filter argument) and of captures. Same fields
//! and operators as rules; no index, no outputs, no counts.

use std::sync::Arc;

use peregrine_state::State;

use crate::compile::{self, event_types, Node, Slots, TypeSet};
use crate::cond::Cond;
use crate::engine::EventInput;
use crate::eval::eval;
use crate::fields::{ContainerLookup, Ctx};
use crate::value::Arena;

pub struct Filter {
    slots: Slots,
    node: Node,
    types: TypeSet,
    arena: Arena,
    hostname: Arc<str>,
}

impl Filter {
    /// Compiles `c`; an error names the field or value that cannot be used.
    pub fn new(c: &Cond, hostname: Arc<str>) -> Result<Filter, String> {
        let mut slots = Slots::default();
        let node = compile::compile(c, &mut slots)?;
        Ok(Filter {
            arena: Arena::new(slots.len()),
            types: event_types(c),
            slots,
            node,
            hostname,
        })
    }

    /// Event types the filter can match.
    pub fn event_types(&self) -> &TypeSet {
        &self.types
    }

    /// Whether the event matches; fields are read from `state` as it is
    /// after the event was applied.
    pub fn matches(
        &mut self,
        input: &EventInput<'_>,
        state: &State,
        containers: &dyn ContainerLookup,
    ) -> bool {
        if !self.types.contains(input.ev.event_type()) {
            return false;
        }
        self.arena.next_event();
        let ctx = Ctx::new(input, state, containers, &self.hostname);
        eval(&self.node, &self.slots, &mut self.arena, &ctx)
    }
}
