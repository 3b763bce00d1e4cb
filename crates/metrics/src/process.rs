//! Process figures from /proc/self, as Falco's resource-utilization
//! metrics: CPU usage over the process lifetime, RSS, VSZ and PSS.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::{names, Kind, Registry};

fn clock_ticks() -> f64 {
    100.0 // USER_HZ is 100 on every Linux ABI Peregrine targets.
}

fn status_kb(status: &str, key: &str) -> Option<f64> {
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
}

/// CPU time used / wall time since the process started, as a ratio of one
/// CPU (libsinsp's `cpu_usage_perc` / 100).
pub fn cpu_usage_ratio() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may contain spaces) in parens.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    let start: f64 = f.get(19)?.parse().ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let elapsed = uptime - start / clock_ticks();
    if elapsed <= 0.0 {
        return Some(0.0);
    }
    Some(((utime + stime) / clock_ticks()) / elapsed)
}

/// (rss, vsz, pss) in bytes.
pub fn memory_bytes() -> (f64, f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status_kb(&status, "VmRSS:").unwrap_or(0.0) * 1024.0;
    let vsz = status_kb(&status, "VmSize:").unwrap_or(0.0) * 1024.0;
    let smaps = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    let pss = status_kb(&smaps, "Pss:").unwrap_or(0.0) * 1024.0;
    (rss, vsz, pss)
}

/// Registers Falco's agent metrics: version, CPU, memory, start time,
/// uptime, host CPUs, kernel release.
pub fn register(reg: &Registry, version: &str) {
    reg.gauge(names::VERSION_INFO, &[("version", version)])
        .set(1.0);
    let start_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    reg.gauge(names::START_TIMESTAMP, &[]).set(start_ns as f64);
    reg.collector(names::DURATION_SECONDS, Kind::Counter, move |out| {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        out.push((
            vec![],
            (now.saturating_sub(start_ns) / 1_000_000_000) as f64,
        ));
    });
    if let Ok(rel) = std::fs::read_to_string("/proc/sys/kernel/osrelease") {
        reg.gauge(
            names::KERNEL_RELEASE_INFO,
            &[("kernel_release", rel.trim())],
        )
        .set(1.0);
    }
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    reg.gauge(names::HOST_NUM_CPUS, &[]).set(cpus as f64);
    reg.collector(names::CPU_USAGE_RATIO, Kind::Gauge, |out| {
        out.push((vec![], cpu_usage_ratio().unwrap_or(0.0)));
    });
    reg.collector(names::MEMORY_RSS_BYTES, Kind::Gauge, |out| {
        out.push((vec![], memory_bytes().0));
    });
    reg.collector(names::MEMORY_VSZ_BYTES, Kind::Gauge, |out| {
        out.push((vec![], memory_bytes().1));
    });
    reg.collector(names::MEMORY_PSS_BYTES, Kind::Gauge, |out| {
        out.push((vec![], memory_bytes().2));
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_proc_self() {
        let (rss, vsz, _) = super::memory_bytes();
        assert!(rss > 0.0 && vsz >= rss, "rss={rss} vsz={vsz}");
        let cpu = super::cpu_usage_ratio().unwrap();
        assert!((0.0..64.0).contains(&cpu));
    }
}
