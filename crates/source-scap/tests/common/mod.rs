//! Helpers shared by the capture tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use peregrine_event::source::Tables;
use peregrine_event::table::{self, EventInfo};
use peregrine_event::RawEvent;
use peregrine_scap::{ScapError, ScapReader};

/// Every conformance capture, as a path relative to the conformance root.
pub const CAPTURES: &[&str] = &[
    "falco-regression/trace_files/cat_write.scap",
    "falco-regression/trace_files/connect_localhost.scap",
    "falco-regression/trace_files/empty.scap",
    "falco-regression/trace_files/open-multiple-files.scap",
    "falco-regression/trace_files/ping_sendto.scap",
    "falco-regression/trace_files/syscall.scap",
    "scap/curl_google.scap",
    "scap/curl_google_comments.scap",
    "scap/single_ipv6_conn.scap",
    "scap/test_ipv6_client.scap",
    "scap/falco-2016/empty.scap",
    "scap/libs-unit/sample.scap",
    "scap/psp/privileged.scap",
    "scap/psp/run_as_user_0_container.scap",
    "scap/psp/run_as_user_65534_container.scap",
    "scap/psp/write_tmp_test.scap",
];

/// The captures, or `None` (with a SKIPPED notice) when the data is absent.
pub fn captures() -> Option<Vec<(&'static str, PathBuf)>> {
    let root = peregrine_testkit::conformance("scap")?;
    let base = root.parent()?.to_path_buf();
    Some(CAPTURES.iter().map(|r| (*r, base.join(r))).collect())
}

/// Test data folder of this crate.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Oracle file stem for a capture (`scap/psp/x.scap` → `scap__psp__x`).
/// `curl_google_comments` is held to `curl_google`'s oracle.
pub fn oracle_stem(rel: &str) -> String {
    let rel = if rel == "scap/curl_google_comments.scap" {
        "scap/curl_google.scap"
    } else {
        rel
    };
    rel.trim_end_matches(".scap").replace('/', "__")
}

/// An event copied out of a reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    pub num: u64,
    pub cpu: u16,
    pub flags: u32,
    pub bytes: Vec<u8>,
}

impl Owned {
    pub fn raw(&self) -> RawEvent<'_> {
        RawEvent::parse(&self.bytes)
            .expect("events from the reader are valid")
            .0
    }
}

pub fn read_all(path: &Path) -> Result<(Tables, Vec<Owned>), ScapError> {
    let mut r = ScapReader::open(path)?;
    let mut out = Vec::new();
    while let Some(ev) = r.next_event()? {
        out.push(Owned {
            num: ev.num,
            cpu: ev.cpu,
            flags: ev.flags,
            bytes: ev.event.as_bytes().to_vec(),
        });
    }
    Ok((r.tables().clone(), out))
}

/// Event types Debian's sysdig 0.29 knows (its libs' `PPM_EVENT_MAX`); its
/// reader skips newer ones without numbering them.
pub const SYSDIG_029_EVENT_MAX: u16 = 336;

/// The name sysdig 0.29 gives a generic event's syscall code: its syscall
/// table named a few codes differently from today's `PPM_SC` names.
pub fn sysdig_029_syscall_name(code: u16) -> String {
    match code {
        0 => "<unknown>".into(),
        283 => "newselect".into(),
        292 => "llseek".into(),
        298 => "sigreturn".into(),
        305..=313 => table::SYSCALL_NAMES[code as usize]
            .trim_end_matches("32")
            .to_string(),
        c => table::syscall_name(c).unwrap_or("<unknown>").to_string(),
    }
}

fn is_container(ty: u16) -> bool {
    matches!(
        ty,
        table::PPME_CONTAINER_E | table::PPME_CONTAINER_JSON_E | table::PPME_CONTAINER_JSON_2_E
    )
}

/// `evt.num evt.type evt.dir thread.tid` lines as sysdig 0.29 prints the
/// capture: internal events and the container events that open a capture are
/// numbered but not shown; types newer than its table are neither.
pub fn sysdig_view(events: &[Owned]) -> Vec<String> {
    let mut out = Vec::new();
    let mut unknown_to_029 = 0u64;
    let mut leading = true;
    for e in events {
        let ev = e.raw();
        let ty = ev.event_type();
        if ty >= SYSDIG_029_EVENT_MAX {
            unknown_to_029 += 1;
            continue;
        }
        leading &= is_container(ty);
        let internal = ev.info().is_some_and(EventInfo::is_internal);
        if leading || internal {
            continue;
        }
        let name = if ty == table::PPME_GENERIC_E || ty == table::PPME_GENERIC_X {
            let code = ev
                .param(0)
                .filter(|p| p.len() == 2)
                .map_or(0, |p| u16::from_le_bytes([p[0], p[1]]));
            sysdig_029_syscall_name(code)
        } else {
            ev.type_name().to_string()
        };
        out.push(format!(
            "{} {} {} {}",
            e.num - unknown_to_029,
            name,
            ev.direction().symbol(),
            ev.tid() as i64
        ));
    }
    out
}

pub fn read_oracle(stem: &str) -> Vec<String> {
    let p = data_dir().join(format!("{stem}.expected"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    text.lines().map(str::to_string).collect()
}

/// Decompressed bytes of a capture (most are gzip).
pub fn plain_bytes(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let raw = std::fs::read(path).unwrap();
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    }
}
