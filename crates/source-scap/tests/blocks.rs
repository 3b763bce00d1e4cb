//! File-format features the conformance captures do not all exercise:
//! unknown blocks, concatenated sections, flags blocks, large payloads,
//! tables in the middle of a file and every process-list version.

use peregrine_event::raw::encode_event;
use peregrine_event::records::ThreadRecord;
use peregrine_event::source::{EventSource, Next, Tables};
use peregrine_event::table::*;
use peregrine_event::RawEvent;
use peregrine_scap::block::*;
use peregrine_scap::decode;
use peregrine_scap::{ScapReader, ScapWriter};

fn close_event(ts: u64, tid: u64) -> Vec<u8> {
    let mut b = Vec::new();
    encode_event(
        &mut b,
        ts,
        tid,
        PPME_SYSCALL_CLOSE_X,
        false,
        &[&0i64.to_le_bytes()],
    );
    b
}

fn capture(tables: &Tables, events: &[(u16, u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = ScapWriter::new(&mut out, tables).unwrap();
    for (cpu, flags, b) in events {
        w.write_raw(*cpu, *flags, &RawEvent::parse(b).unwrap().0)
            .unwrap();
    }
    w.finish().unwrap();
    out
}

fn block(ty: u32, body: &[u8]) -> Vec<u8> {
    let total = (body.len().div_ceil(4) * 4 + 12) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(&ty.to_le_bytes());
    b.extend_from_slice(&total.to_le_bytes());
    b.extend_from_slice(body);
    b.resize(total as usize - 4, 0);
    b.extend_from_slice(&total.to_le_bytes());
    b
}

/// `(num, cpu, flags, bytes)` of each event.
type Events = Vec<(u64, u16, u32, Vec<u8>)>;

fn read(bytes: Vec<u8>) -> (ScapReader, Events) {
    let mut r = ScapReader::from_bytes("test.scap", bytes).unwrap();
    let mut evs = Vec::new();
    while let Some(e) = r.next_event().unwrap() {
        evs.push((e.num, e.cpu, e.flags, e.event.as_bytes().to_vec()));
    }
    (r, evs)
}

#[test]
fn unknown_blocks_are_skipped() {
    let evs: Vec<_> = (0..3).map(|i| (0u16, 0u32, close_event(i, 7))).collect();
    let plain = capture(&Tables::default(), &evs);
    // Header (28 bytes), then an unknown block, then the events with another in between.
    let first_event_len = u32::from_le_bytes(plain[32..36].try_into().unwrap()) as usize;
    let mut with = plain[..28].to_vec();
    with.extend(block(0x0bad_f00d, b"a block from a newer writer"));
    with.extend_from_slice(&plain[28..28 + first_event_len]);
    with.extend(block(0x1234, &[1, 2, 3]));
    with.extend_from_slice(&plain[28 + first_event_len..]);
    let (r1, a) = read(plain);
    let (r2, b) = read(with);
    assert_eq!(a, b);
    assert_eq!(r1.stats().skipped_blocks, 0);
    assert_eq!(r2.stats().skipped_blocks, 2);
}

#[test]
fn concatenated_captures_read_as_one_stream() {
    let t1 = Tables {
        threads: vec![ThreadRecord {
            tid: 1,
            pid: 1,
            comm: "init".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let t2 = Tables {
        threads: vec![ThreadRecord {
            tid: 2,
            pid: 2,
            comm: "sh".into(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let a = capture(&t1, &[(0, 0, close_event(1, 1))]);
    let b = capture(&t2, &[(1, 0, close_event(2, 2)), (1, 0, close_event(3, 2))]);
    let mut both = a.clone();
    both.extend_from_slice(&b);
    let (r, evs) = read(both);
    assert_eq!(evs.len(), 3);
    assert_eq!(evs.iter().map(|e| e.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    // The second section's process list arrives mid-stream and is merged.
    let comms: Vec<&str> = r.tables().threads.iter().map(|t| t.comm.as_str()).collect();
    assert_eq!(comms, vec!["init", "sh"]);
}

#[test]
fn flags_and_large_payload_blocks() {
    let json = format!("{{\"container\":{{\"id\":\"{}\"}}}}\0", "x".repeat(100_000));
    let mut large = Vec::new();
    encode_event(
        &mut large,
        5,
        0,
        PPME_CONTAINER_JSON_2_E,
        true,
        &[json.as_bytes()],
    );
    let evs = vec![
        (3u16, SCAP_DF_STATE_ONLY, close_event(1, 9)),
        (2u16, 0, large.clone()),
        (1u16, SCAP_DF_STATE_ONLY, large),
    ];
    let bytes = capture(&Tables::default(), &evs);
    // Block types chosen by the writer: EVF v2, EV v2 large, EVF v2 large.
    let mut types = Vec::new();
    let mut off = 28;
    while off < bytes.len() {
        types.push(u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap()));
        off += u32::from_le_bytes(bytes[off + 4..off + 8].try_into().unwrap()) as usize;
    }
    assert_eq!(
        types,
        vec![
            EVF_BLOCK_TYPE_V2,
            EV_BLOCK_TYPE_V2_LARGE,
            EVF_BLOCK_TYPE_V2_LARGE
        ]
    );
    let (_, got) = read(bytes);
    for ((cpu, flags, b), (_, gcpu, gflags, gb)) in evs.iter().zip(&got) {
        assert_eq!((cpu, flags, b), (gcpu, gflags, gb));
    }
    let (ev, _) = RawEvent::parse(&got[1].3).unwrap();
    assert!(ev.large_payload());
    assert_eq!(ev.param(0).unwrap().len(), json.len());
}

#[test]
fn event_source_interface() {
    let bytes = capture(&Tables::default(), &[(0, 0, close_event(1, 1))]);
    let mut r = ScapReader::from_bytes("s.scap", bytes).unwrap();
    assert!(EventSource::tables(&r).threads.is_empty());
    assert!(matches!(EventSource::next(&mut r).unwrap(), Next::Event(e) if e.num == 1));
    assert!(matches!(EventSource::next(&mut r).unwrap(), Next::End));
    assert!(matches!(EventSource::next(&mut r).unwrap(), Next::End));
}

/// Encodes one process-list entry the way each version lays it out.
fn proc_entry(version: u8, tid: i64) -> Vec<u8> {
    let mut b = Vec::new();
    let s = |b: &mut Vec<u8>, v: &[u8]| {
        b.extend_from_slice(&(v.len() as u16).to_le_bytes());
        b.extend_from_slice(v);
    };
    if version >= 9 {
        b.extend_from_slice(&0u32.to_le_bytes()); // length, patched below
    }
    for v in [tid, tid, 1] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    if version >= 6 {
        b.extend_from_slice(&77i64.to_le_bytes()); // sid
    }
    if version >= 8 {
        b.extend_from_slice(&78i64.to_le_bytes()); // vpgid
    }
    s(&mut b, b"comm");
    s(&mut b, b"/bin/exe");
    if version >= 7 {
        s(&mut b, b"/usr/bin/exe");
    }
    s(&mut b, b"-a\0-b\0");
    s(&mut b, b"/cwd");
    b.extend_from_slice(&1024u64.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes()); // flags
    b.extend_from_slice(&1000u32.to_le_bytes());
    b.extend_from_slice(&1001u32.to_le_bytes());
    if version >= 2 {
        for v in [10u32, 20, 30] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in [40u64, 50] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        if version >= 3 {
            s(&mut b, b"A=1\0B=2\0");
        }
        if version >= 4 {
            b.extend_from_slice(&5i64.to_le_bytes());
            b.extend_from_slice(&6i64.to_le_bytes());
            s(&mut b, b"cpu=/docker/abc\0");
            if version >= 5 {
                s(&mut b, b"/root");
            }
        }
    }
    if version >= 9 {
        b.extend_from_slice(&4242u32.to_le_bytes()); // loginuid (pre-0.10 layout)
        b.push(1); // exe_writable
        let n = b.len() as u32;
        b[..4].copy_from_slice(&n.to_le_bytes());
    }
    b
}

#[test]
fn every_process_list_version() {
    for version in 1..=9u8 {
        let mut body = proc_entry(version, 10);
        body.extend(proc_entry(version, 11));
        let mut out = Vec::new();
        decode::proc_list(&body, version, false, &mut out).unwrap();
        assert_eq!(out.len(), 2, "v{version}");
        let t = &out[0];
        assert_eq!(
            (t.tid, t.pid, t.ptid, t.comm.as_str()),
            (10, 10, 1, "comm"),
            "v{version}"
        );
        assert_eq!((t.exe.as_str(), t.cwd.as_str()), ("/bin/exe", "/cwd"));
        assert_eq!(t.args, vec!["-a", "-b"]);
        assert_eq!((t.uid, t.gid, t.fdlimit), (1000, 1001, 1024));
        assert_eq!(t.sid, if version >= 6 { 77 } else { -1 });
        assert_eq!(t.vpgid, if version >= 8 { 78 } else { -1 });
        assert_eq!(t.exepath, if version >= 7 { "/usr/bin/exe" } else { "" });
        assert_eq!(t.vmrss_kb, if version >= 2 { 20 } else { 0 });
        assert_eq!(t.env.len(), if version >= 3 { 2 } else { 0 });
        assert_eq!(t.vpid, if version >= 4 { 6 } else { -1 });
        assert_eq!(t.cgroups.len(), usize::from(version >= 4));
        assert_eq!(t.root, if version >= 5 { "/root" } else { "" });
        assert_eq!(t.loginuid, if version >= 9 { 4242 } else { u32::MAX });
        assert_eq!(t.exe_writable, version >= 9);
        assert_eq!(out[1].tid, 11);
    }
    // An entry whose declared length is shorter than its fields is an error.
    let mut bad = proc_entry(9, 1);
    bad[..4].copy_from_slice(&20u32.to_le_bytes());
    assert!(decode::proc_list(&bad, 9, false, &mut Vec::new()).is_err());
}
