//! Prints a capture's events with a `-p` format the way `sysdig -r` does,
//! through state and the engine's fields. Used to compare with sysdig.
use peregrine_engine::format::EventFormatter;
use peregrine_engine::{EventInput, NoContainers};
use peregrine_event::table::{PPME_CONTAINER_E, PPME_CONTAINER_JSON_2_E, PPME_CONTAINER_JSON_E};
use peregrine_scap::ScapReader;
use peregrine_state::{Folded, Folder, State, StateConfig};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut r = ScapReader::open(&args[1]).expect("open");
    let mut fmt = EventFormatter::parse(&args[2]).expect("format");
    let mut state = State::new(StateConfig::default(), r.tables());
    let mut folder = Folder::new();
    let mut line = String::new();
    let mut leading = true;
    while let Some(ev) = r.next_event().expect("read") {
        let raw = ev.event;
        match folder.fold(raw) {
            Folded::Enter => state.update(&raw),
            Folded::AsIs(e) | Folded::Rebuilt(e) => state.update(&e),
        }
        let is_container = matches!(
            raw.event_type(),
            PPME_CONTAINER_E | PPME_CONTAINER_JSON_E | PPME_CONTAINER_JSON_2_E
        );
        leading &= is_container;
        if leading || ev.flags & 1 != 0 || raw.info().is_some_and(|i| i.is_internal()) {
            continue;
        }
        line.clear();
        let input = EventInput {
            ev: &raw,
            num: ev.num,
            cpu: ev.cpu,
            enter_ts: 0,
        };
        if fmt.render(&input, &state, &NoContainers, &mut line) {
            println!("{line}");
        }
    }
}
