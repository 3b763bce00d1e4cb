//! Test helpers shared by every crate's tests.
//!
//! Conformance data lives in `../shared/conformance/` beside the project
//! root. In a user's clone it may be absent: tests then skip with a visible
//! message. Under CI (`CI=true`) absence is a failure.

use std::path::{Path, PathBuf};

/// The project root (the workspace directory).
pub fn project_root() -> PathBuf {
    // crates/testkit → ../..
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub fn in_ci() -> bool {
    matches!(std::env::var("CI").as_deref(), Ok("true") | Ok("1"))
}

/// Path of `rel` inside the conformance data, or `None` (after printing a
/// skip notice) when the data is absent outside CI. Panics under CI.
pub fn conformance(rel: &str) -> Option<PathBuf> {
    let base = std::env::var_os("PEREGRINE_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| project_root().join("../shared/conformance"));
    let p = base.join(rel);
    if p.exists() {
        return Some(p);
    }
    if in_ci() {
        panic!("conformance data missing under CI: {}", p.display());
    }
    eprintln!(
        "SKIPPED: conformance data not found at {} (set PEREGRINE_CONFORMANCE or clone ../shared)",
        p.display()
    );
    None
}

/// Whether live tests (real eBPF probe, podman) can run: root and BTF.
/// Under CI they must: a missing prerequisite panics instead of skipping.
pub fn live_ready(what: &str) -> bool {
    let root = unsafe_geteuid() == 0;
    let btf = Path::new("/sys/kernel/btf/vmlinux").exists();
    if root && btf {
        return true;
    }
    let why = format!("live test '{what}' needs root and BTF (root={root}, btf={btf})");
    if in_ci() {
        panic!("{why}");
    }
    eprintln!("SKIPPED: {why}");
    false
}

fn unsafe_geteuid() -> u32 {
    // Avoids a libc dependency: /proc/self/status has the effective uid.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(str::to_string))
        })
        .and_then(|u| u.parse().ok())
        .unwrap_or(u32::MAX)
}

/// Whether an executable is on PATH (sysdig, podman, …). Under CI a missing
/// tool panics, since `.ci/run` installs them.
pub fn tool_available(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    if !found {
        if in_ci() {
            panic!("tool '{tool}' is not installed under CI");
        }
        eprintln!("SKIPPED: tool '{tool}' is not installed");
    }
    found
}
