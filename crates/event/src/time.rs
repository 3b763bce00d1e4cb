//! Time helpers for `evt.time` and `ABSTIME` params: local-time offsets (as
//! libsinsp prints local time) and civil dates, without allocation.

/// Offset of local time from UTC, in seconds, at `secs` since the epoch.
pub fn local_offset_secs(secs: i64) -> i64 {
    let t = secs as libc::time_t;
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: localtime_r only writes into `tm`, which we own.
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if ok {
        tm.tm_gmtoff
    } else {
        0
    }
}

/// `(year, month, day, hour, minute, second)` of `secs` since the epoch (UTC).
pub fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, mi, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = if m <= 2 { y + 1 } else { y };
    (y, m, d, h as u32, mi as u32, s as u32)
}

/// `HH:MM:SS.nnnnnnnnn` in local time (`evt.time`).
pub fn write_time_of_day(out: &mut String, ts_ns: u64) {
    let secs = (ts_ns / 1_000_000_000) as i64;
    write_clock(out, ts_ns, local_offset_secs(secs));
}

/// `HH:MM:SS.nnnnnnnnn` of `ts_ns` shifted by `offset_secs`.
pub fn write_clock(out: &mut String, ts_ns: u64, offset_secs: i64) {
    use std::fmt::Write;
    let s = ((ts_ns / 1_000_000_000) as i64 + offset_secs).rem_euclid(86_400);
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}.{:09}",
        s / 3600,
        (s % 3600) / 60,
        s % 60,
        ts_ns % 1_000_000_000
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(civil(1_700_000_000), (2023, 11, 14, 22, 13, 20));
        assert_eq!(civil(-1), (1969, 12, 31, 23, 59, 59));
    }
}
