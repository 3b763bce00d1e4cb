//! Prints `num type dir tid` per event (a debugging aid).
fn main() {
    for path in std::env::args().skip(1) {
        let mut r = match peregrine_scap::ScapReader::open(&path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                continue;
            }
        };
        eprintln!("{path}: {} threads", r.tables().threads.len());
        loop {
            match r.next_event() {
                Ok(Some(ev)) => println!(
                    "{} {} {} {}",
                    ev.num,
                    ev.event.type_name(),
                    ev.event.direction().symbol(),
                    ev.event.tid() as i64
                ),
                Ok(None) => break,
                Err(e) => {
                    eprintln!("{e}");
                    break;
                }
            }
        }
        eprintln!("{:?}", r.stats());
    }
}
