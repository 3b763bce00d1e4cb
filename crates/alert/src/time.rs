//! Timestamps as Falco prints them: `evt.time` (`HH:MM:SS.nnnnnnnnn` in local
//! time, with the zone offset of *now*, as libsinsp computes it),
//! `evt.time.iso8601` (`…T…+0000`) and the JSON `time` key (`…T…Z`).

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const NS: u64 = 1_000_000_000;

/// Seconds east of UTC now. Cached for a minute: libsinsp asks the C library
/// on every call, which is costly and only changes at DST switches.
pub fn local_offset_secs() -> i64 {
    static OFFSET: AtomicI64 = AtomicI64::new(0);
    static CHECKED_AT: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let checked = CHECKED_AT.load(Ordering::Relaxed);
    if checked == 0 || now >= checked + 60 {
        OFFSET.store(
            peregrine_event::time::local_offset_secs(now as i64),
            Ordering::Relaxed,
        );
        CHECKED_AT.store(now.max(1), Ordering::Relaxed);
    }
    OFFSET.load(Ordering::Relaxed)
}

/// `HH:MM:SS.nnnnnnnnn` in local time (Falco's `evt.time`).
pub use peregrine_event::time::write_clock as write_time_of_day;

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn` in UTC, without a zone suffix.
fn write_utc(out: &mut String, ts_ns: u64) {
    let (y, m, d, h, mi, s) = peregrine_event::time::civil((ts_ns / NS) as i64);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:09}",
        ts_ns % NS
    );
}

/// The JSON `time` key: RFC 3339 in UTC with nanoseconds and `Z`.
pub fn write_rfc3339(out: &mut String, ts_ns: u64) {
    write_utc(out, ts_ns);
    out.push('Z');
}

/// `evt.time.iso8601`: UTC with nanoseconds and a `+0000` offset.
pub fn write_iso8601(out: &mut String, ts_ns: u64) {
    write_utc(out, ts_ns);
    out.push_str("+0000");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let ts = 1_470_327_477_881_781_949u64; // 2016-08-04T16:17:57.881781949Z
        let mut s = String::new();
        write_rfc3339(&mut s, ts);
        assert_eq!(s, "2016-08-04T16:17:57.881781949Z");
        s.clear();
        write_iso8601(&mut s, ts);
        assert_eq!(s, "2016-08-04T16:17:57.881781949+0000");
        s.clear();
        write_time_of_day(&mut s, ts, 0);
        assert_eq!(s, "16:17:57.881781949");
        s.clear();
        write_time_of_day(&mut s, ts, -17 * 3600);
        assert_eq!(s, "23:17:57.881781949");
        s.clear();
        write_rfc3339(&mut s, 951_782_400 * NS); // leap day 2000
        assert_eq!(s, "2000-02-29T00:00:00.000000000Z");
    }
}
