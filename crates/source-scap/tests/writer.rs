//! The writer: Peregrine reads its own captures back identically (plain,
//! gzip, big-endian), and sysdig 0.29 prints the same lines for a capture and
//! for Peregrine's copy of it.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use peregrine_event::records::{
    FdKind, FdRecord, FdTarget, GroupRecord, InterfaceAddr, InterfaceRecord, MachineInfo,
    ThreadRecord, UserRecord,
};
use peregrine_event::source::Tables;
use peregrine_scap::{ByteOrder, ScapReader, ScapWriter};

fn write_copy(events: &[Owned], tables: &Tables, out: &Path, order: ByteOrder) {
    let f = std::fs::File::create(out).unwrap();
    let mut w = ScapWriter::with_byte_order(f, tables, order).unwrap();
    for e in events {
        w.write_raw(e.cpu, e.flags, &e.raw()).unwrap();
    }
    assert_eq!(w.events_written(), events.len() as u64);
    w.finish().unwrap();
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("peregrine-writer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[test]
fn round_trip_every_capture() {
    let Some(caps) = captures() else { return };
    for (rel, path) in caps {
        let (tables, events) = read_all(&path).unwrap();
        for (order, name) in [(ByteOrder::Little, "le.scap"), (ByteOrder::Big, "be.scap")] {
            let out = tmp(name);
            write_copy(&events, &tables, &out, order);
            let (t2, e2) = read_all(&out).unwrap_or_else(|e| panic!("{rel} {order:?}: {e}"));
            assert_eq!(e2, events, "{rel} {order:?}: events");
            assert_eq!(t2.threads, tables.threads, "{rel} {order:?}: threads");
            assert_eq!(t2.users, tables.users, "{rel} {order:?}: users");
            assert_eq!(t2.groups, tables.groups, "{rel} {order:?}: groups");
            assert_eq!(
                t2.interfaces, tables.interfaces,
                "{rel} {order:?}: interfaces"
            );
            assert_eq!(t2.machine, tables.machine, "{rel} {order:?}: machine");
            let r = ScapReader::open(&out).unwrap();
            assert_eq!(r.section().big_endian, order == ByteOrder::Big);
        }
    }
}

#[test]
fn gzip_output_round_trips() {
    let Some(caps) = captures() else { return };
    let (rel, path) = &caps[0];
    let (tables, events) = read_all(path).unwrap();
    let out = tmp("copy.scap.gz");
    let mut w = ScapWriter::create(&out, &tables).unwrap();
    for e in &events {
        w.write_raw(e.cpu, e.flags, &e.raw()).unwrap();
    }
    w.close().unwrap();
    let raw = std::fs::read(&out).unwrap();
    assert_eq!(&raw[..2], &[0x1f, 0x8b], "{rel}: gzip magic");
    let (t2, e2) = read_all(&out).unwrap();
    assert_eq!(e2, events);
    assert_eq!(t2.threads, tables.threads);
}

/// Every record field the writer knows survives a round trip, including
/// fd kinds and address families the captures lack.
#[test]
fn synthetic_tables_round_trip() {
    let fds = vec![
        FdRecord {
            fd: 0,
            ino: 7,
            kind: FdKind::FileV2,
            flags: 0x41,
            target: FdTarget::Name("/dev/pts/0".into()),
            dev: 0x88,
        },
        FdRecord {
            fd: 3,
            kind: FdKind::Ipv4Sock,
            target: FdTarget::Ipv4 {
                sip: 0x7f00_0001,
                dip: 0x0a00_0002,
                sport: 47192,
                dport: 80,
                l4proto: 2,
            },
            ..Default::default()
        },
        FdRecord {
            fd: 4,
            kind: FdKind::Ipv6ServSock,
            target: FdTarget::Ipv6Server {
                ip: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
                port: 443,
                l4proto: 2,
            },
            ..Default::default()
        },
        FdRecord {
            fd: 5,
            ino: 99,
            kind: FdKind::UnixSock,
            target: FdTarget::Unix {
                source: 0xffff_8880_1234,
                dest: 0,
                path: "/run/x.sock".into(),
            },
            ..Default::default()
        },
        FdRecord {
            fd: 6,
            kind: FdKind::Memfd,
            target: FdTarget::Name("memfd:x".into()),
            ..Default::default()
        },
    ];
    let tables = Tables {
        machine: Some(MachineInfo {
            num_cpus: 2,
            memory_size_bytes: 24 << 30,
            hostname: "node-1".into(),
            boot_time_ns: 1_700_000_000_000_000_000,
            flags: 1,
            max_pid: 4_194_304,
            ..Default::default()
        }),
        threads: vec![ThreadRecord {
            tid: 100,
            pid: 100,
            ptid: 1,
            sid: 100,
            vpgid: 100,
            pgid: 100,
            comm: "nginx".into(),
            exe: "/usr/sbin/nginx".into(),
            exepath: "/usr/sbin/nginx".into(),
            args: vec!["-g".into(), "daemon off;".into()],
            env: vec!["PATH=/usr/bin".into(), "HOME=/".into()],
            cwd: "/".into(),
            fdlimit: 1024,
            flags: 0,
            uid: 33,
            gid: 33,
            loginuid: u32::MAX,
            vmsize_kb: 1000,
            vmrss_kb: 500,
            vmswap_kb: 1,
            pfmajor: 2,
            pfminor: 3,
            vtid: 1,
            vpid: 1,
            cgroups: vec![("cpu".into(), "/docker/abc".into())],
            root: "/".into(),
            tty: 34816,
            clone_ts: 0,
            pidns_init_start_ts: 55,
            exe_writable: true,
            exe_upper_layer: true,
            exe_lower_layer: false,
            exe_from_memfd: true,
            exe_ino: 123,
            exe_ino_ctime: 456,
            exe_ino_mtime: 789,
            cap_permitted: 0x3f,
            cap_effective: 0x1f,
            cap_inheritable: 0,
            fds,
        }],
        users: vec![UserRecord {
            uid: 33,
            gid: 33,
            name: "www-data".into(),
            homedir: "/var/www".into(),
            shell: "/usr/sbin/nologin".into(),
            container_id: String::new(),
        }],
        groups: vec![GroupRecord {
            gid: 33,
            name: "www-data".into(),
            container_id: String::new(),
        }],
        interfaces: vec![
            InterfaceRecord {
                name: "lo".into(),
                addr: InterfaceAddr::V4(0x7f00_0001),
                netmask: InterfaceAddr::V4(0xff00_0000),
                broadcast: InterfaceAddr::V4(0x7fff_ffff),
                linkspeed: 0,
            },
            InterfaceRecord {
                name: "eth0".into(),
                addr: InterfaceAddr::V6([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]),
                netmask: InterfaceAddr::V6([0xff; 16]),
                broadcast: InterfaceAddr::V6([0; 16]),
                linkspeed: 1000,
            },
        ],
    };
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let out = tmp("synthetic.scap");
        write_copy(&[], &tables, &out, order);
        let (t2, e2) = read_all(&out).unwrap();
        assert!(e2.is_empty());
        // Fd kinds newer than FILE_V2 are written as "unsupported" (for
        // older readers such as sysdig 0.29).
        let mut expected = tables.threads.clone();
        for t in &mut expected {
            for f in &mut t.fds {
                if f.kind as u8 > FdKind::FileV2 as u8 {
                    f.kind = FdKind::Unsupported;
                }
            }
        }
        assert_eq!(t2.threads, expected, "{order:?}");
        assert_eq!(t2.users, tables.users);
        assert_eq!(t2.groups, tables.groups);
        assert_eq!(t2.interfaces, tables.interfaces);
        assert_eq!(t2.machine, tables.machine);
    }
}

fn sysdig_lines(path: &Path, format: Option<&str>) -> String {
    let mut cmd = Command::new("sysdig");
    cmd.arg("-r").arg(path).env("TZ", "UTC");
    if let Some(f) = format {
        cmd.arg("-p").arg(f);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "sysdig -r {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// sysdig prints identical lines (default ones and table-dependent fields)
/// for each capture and for Peregrine's copy of it; for the commented
/// capture, which sysdig cannot read, Peregrine's copy prints what
/// `curl_google.scap` prints.
#[test]
fn sysdig_reads_our_copies_identically() {
    let Some(caps) = captures() else { return };
    if !peregrine_testkit::tool_available("sysdig") {
        return;
    }
    const STATE: &str = "*%evt.num %proc.name %proc.pname %proc.cmdline %proc.exepath %user.name \
                         %group.name %fd.name %proc.cwd %container.id %proc.vpid %fd.sip %fd.lport %proc.env";
    let plain = caps
        .iter()
        .find(|(r, _)| *r == "scap/curl_google.scap")
        .unwrap()
        .1
        .clone();
    for (rel, path) in &caps {
        let (tables, events) = read_all(path).unwrap();
        let out = tmp("for-sysdig.scap");
        write_copy(&events, &tables, &out, ByteOrder::Little);
        let reference = if *rel == "scap/curl_google_comments.scap" {
            &plain
        } else {
            path
        };
        assert_eq!(
            sysdig_lines(&out, None),
            sysdig_lines(reference, None),
            "{rel}: default lines"
        );
        assert_eq!(
            sysdig_lines(&out, Some(STATE)),
            sysdig_lines(reference, Some(STATE)),
            "{rel}: state fields"
        );
    }
}
