//! Source → state → engine for one event: the glue every front end (replay,
//! live, `peregrine events`) shares.

use std::sync::OnceLock;

use peregrine_alert::Alert;
use peregrine_event::table::{self, PPME_CONTAINER_JSON_2_E, PPME_CONTAINER_JSON_E};
use peregrine_event::{RawEvent, SourcedEvent, Tables};
use peregrine_state::{Folded, Folder, State, StateConfig};

use crate::engine::{Engine, EventInput, Matched};
use crate::fields::{ContainerLookup, NoContainers};

/// Event types after which a thread may be in a container we have not
/// seen: clone/fork/exec exits.
fn starts_process(ty: u16) -> bool {
    static TABLE: OnceLock<Vec<bool>> = OnceLock::new();
    let t = TABLE.get_or_init(|| {
        (0..table::EVENT_MAX as u16)
            .map(|t| {
                table::direction(t) == table::Direction::Exit
                    && table::event_info(t).is_some_and(|i| {
                        matches!(
                            i.name,
                            "clone" | "clone3" | "fork" | "vfork" | "execve" | "execveat"
                        )
                    })
            })
            .collect()
    });
    t.get(ty as usize).copied().unwrap_or(false)
}

/// Runs events through state and rules the way current Falco does: enter
/// events are folded into their exits and never evaluated.
pub struct Pipeline {
    pub folder: Folder,
    pub state: State,
    pub engine: Engine,
    pub containers: Box<dyn ContainerLookup>,
    /// Events seen (every kind) and evaluated (exit side).
    pub events_seen: u64,
}

impl Pipeline {
    pub fn new(engine: Engine, tables: &Tables, config: StateConfig) -> Pipeline {
        Pipeline::with_state(engine, State::new(config, tables))
    }

    /// A pipeline whose state takes `tables` over (see
    /// [`State::from_tables`]).
    pub fn from_tables(engine: Engine, tables: Tables, config: StateConfig) -> Pipeline {
        Pipeline::with_state(engine, State::from_tables(config, tables))
    }

    fn with_state(engine: Engine, state: State) -> Pipeline {
        Pipeline {
            folder: Folder::new(),
            state,
            engine,
            containers: Box::new(NoContainers),
            events_seen: 0,
        }
    }

    /// Runs one event through; says what matched (nothing for an enter
    /// event, which is only folded).
    pub fn on_event(&mut self, ev: &SourcedEvent<'_>, on_alert: &mut dyn FnMut(Alert)) -> Matched {
        self.events_seen += 1;
        let Pipeline {
            folder,
            state,
            engine,
            containers,
            ..
        } = self;
        let ty = ev.event.event_type();
        if ty == PPME_CONTAINER_JSON_E || ty == PPME_CONTAINER_JSON_2_E {
            if let Some(json) = ev.event.param(0) {
                containers.on_container_event(json);
            }
        }
        let e = match folder.fold(ev.event) {
            // Falco 0.44 reads old captures the same way: the enter event's
            // params are folded into its exit, which alone meets the rules.
            Folded::Enter => return Matched::default(),
            Folded::AsIs(e) | Folded::Rebuilt(e) => e,
        };
        state.update(&e);
        if starts_process(e.event_type()) {
            if let Some(t) = state.thread(e.tid() as i64) {
                if let Some(c) = &t.container {
                    containers.observe(c, t.pid.max(0) as u32);
                }
            }
        }
        let input = EventInput {
            ev: &e,
            num: ev.num,
            cpu: ev.cpu,
            enter_ts: 0,
        };
        engine.process(&input, state, containers.as_ref(), on_alert)
    }
}

/// State kept the way sysdig shows a capture: every event, enter and exit,
/// updates state (exits through their folded form) and is shown as is.
pub struct RawView {
    pub folder: Folder,
    pub state: State,
}

impl RawView {
    pub fn new(tables: &Tables, config: StateConfig) -> RawView {
        RawView {
            folder: Folder::new(),
            state: State::new(config, tables),
        }
    }

    /// Applies `raw` to state; afterwards fields of `raw` can be read.
    pub fn observe(&mut self, raw: &RawEvent<'_>) {
        match self.folder.fold(*raw) {
            Folded::Enter => self.state.update(raw),
            Folded::AsIs(e) | Folded::Rebuilt(e) => self.state.update(&e),
        }
    }
}
