//! Loads the probe with a syscall set and prints events: a quick manual check.
//! `probe_dump [dispatch|tracepoint] [syscall ...]`
use peregrine_ebpf::{interest::ScSet, Design, LiveConfig, LiveSource};
use peregrine_event::format::{write_args, NoContext, Rendered};
use peregrine_event::{EventSource, Next};

fn main() {
    let mut args = std::env::args().skip(1);
    let design: Design = args
        .next()
        .unwrap_or_else(|| "tracepoint".into())
        .parse()
        .expect("design");
    let mut set = ScSet::new();
    for n in args {
        assert!(set.insert_name(&n), "unknown syscall {n}");
    }
    let mut cfg = LiveConfig::default();
    cfg.probe.design = design;
    cfg.probe.interest = set;
    cfg.scan_proc = false;
    let mut src = LiveSource::open(&cfg).expect("open");
    eprintln!(
        "loaded in {:?}: {:?}",
        src.probe().load_time(),
        src.probe().program_names()
    );
    let mut line = String::new();
    let mut rendered = Rendered::default();
    let start = std::time::Instant::now();
    while start.elapsed().as_secs() < 5 {
        match src.next().expect("next") {
            Next::Event(e) => {
                line.clear();
                write_args(&mut line, &e.event, &NoContext, &mut rendered);
                println!(
                    "{} cpu{} tid={} {} {}",
                    e.num,
                    e.cpu,
                    e.event.tid(),
                    e.event.type_name(),
                    line
                );
            }
            Next::Idle => {}
            Next::End => break,
        }
    }
    eprintln!("{:?}", src.stats().expect("stats"));
}
