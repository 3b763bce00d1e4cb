//! Decoders for block bodies (the bytes between a block's header and its
//! trailer). Pure functions over byte slices: they never panic, and they
//! allocate only in proportion to the bytes they are given.

use peregrine_event::records::{
    FdKind, FdRecord, FdTarget, GroupRecord, InterfaceAddr, InterfaceRecord, MachineInfo,
    ThreadRecord, UserRecord,
};

use crate::block::{BlockKind, SHB_MAGIC, SHB_MAGIC_SWAPPED};

/// What is wrong, and where inside the block body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Offset inside the block body.
    pub at: usize,
    pub message: String,
}

impl DecodeError {
    fn new(at: usize, message: impl Into<String>) -> DecodeError {
        DecodeError {
            at,
            message: message.into(),
        }
    }
}

pub type Result<T> = std::result::Result<T, DecodeError>;

/// A bounds-checked reader over a block body in the section's byte order.
#[derive(Debug, Clone)]
pub(crate) struct Cur<'a> {
    b: &'a [u8],
    pub pos: usize,
    big: bool,
}

impl<'a> Cur<'a> {
    pub fn new(b: &'a [u8], big: bool) -> Cur<'a> {
        Cur { b, pos: 0, big }
    }
    pub fn remaining(&self) -> usize {
        self.b.len().saturating_sub(self.pos)
    }
    pub fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if self.remaining() < n {
            return Err(DecodeError::new(
                self.pos,
                format!(
                    "{what}: need {n} bytes, only {} left in the block",
                    self.remaining()
                ),
            ));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    pub fn skip(&mut self, n: usize, what: &str) -> Result<()> {
        self.bytes(n, what).map(|_| ())
    }
    fn arr<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let s = self.bytes(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        if self.big {
            a.reverse();
        }
        Ok(a)
    }
    pub fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.bytes(1, what)?[0])
    }
    pub fn u16(&mut self, what: &str) -> Result<u16> {
        self.arr::<2>(what).map(u16::from_le_bytes)
    }
    pub fn u32(&mut self, what: &str) -> Result<u32> {
        self.arr::<4>(what).map(u32::from_le_bytes)
    }
    pub fn u64(&mut self, what: &str) -> Result<u64> {
        self.arr::<8>(what).map(u64::from_le_bytes)
    }
    pub fn i64(&mut self, what: &str) -> Result<i64> {
        self.u64(what).map(|v| v as i64)
    }
    /// Raw bytes in network order (never swapped).
    pub fn raw4(&mut self, what: &str) -> Result<[u8; 4]> {
        let s = self.bytes(4, what)?;
        Ok([s[0], s[1], s[2], s[3]])
    }
    pub fn raw16(&mut self, what: &str) -> Result<[u8; 16]> {
        let s = self.bytes(16, what)?;
        let mut a = [0u8; 16];
        a.copy_from_slice(s);
        Ok(a)
    }
    /// `u16 length` + bytes.
    pub fn lstr(&mut self, what: &str) -> Result<&'a [u8]> {
        let n = self.u16(what)? as usize;
        self.bytes(n, what)
    }
    pub fn string(&mut self, what: &str) -> Result<String> {
        self.lstr(what).map(lossy)
    }
}

/// Text up to the first NUL, lossily decoded.
pub(crate) fn lossy(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

/// NUL-separated strings (a trailing NUL ends the list, it does not add an
/// empty string).
pub(crate) fn split_strings(b: &[u8]) -> Vec<String> {
    peregrine_event::param::split_nul(b)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// The section header block's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    pub big_endian: bool,
    pub major: u16,
    pub minor: u16,
    /// -1 when unknown.
    pub section_length: i64,
    /// pcapng `opt_comment` options.
    pub comments: Vec<String>,
}

/// Decodes a section header body. The byte order comes from its magic.
pub fn section_header(body: &[u8]) -> Result<Section> {
    let mut c = Cur::new(body, false);
    let magic = c.u32("byte-order magic")?;
    let big = match magic {
        SHB_MAGIC => false,
        SHB_MAGIC_SWAPPED => true,
        m => {
            return Err(DecodeError::new(
                0,
                format!("bad byte-order magic 0x{m:08x} (want 0x1a2b3c4d)"),
            ))
        }
    };
    let mut c = Cur::new(body, big);
    c.skip(4, "magic")?;
    let major = c.u16("major version")?;
    let minor = c.u16("minor version")?;
    let section_length = c.i64("section length")?;
    let mut comments = Vec::new();
    // pcapng options: u16 code, u16 length, value padded to 4 bytes; code 0 ends.
    while c.remaining() >= 4 {
        let code = c.u16("option code")?;
        let len = c.u16("option length")? as usize;
        if code == 0 {
            break;
        }
        let v = c.bytes(len, "option value")?;
        if code == 1 {
            comments.push(lossy(v));
        }
        let pad = (4 - len % 4) % 4;
        c.skip(pad.min(c.remaining()), "option padding")?;
    }
    Ok(Section {
        big_endian: big,
        major,
        minor,
        section_length,
        comments,
    })
}

pub fn machine_info(body: &[u8], big: bool) -> Result<MachineInfo> {
    let mut c = Cur::new(body, big);
    let num_cpus = c.u32("num_cpus")?;
    let memory_size_bytes = c.u64("memory size")?;
    let max_pid = c.u64("max pid")?;
    let hostname = lossy(c.bytes(128, "hostname")?);
    // Fields added later; older files stop here.
    let opt = |c: &mut Cur, what| {
        if c.remaining() >= 8 {
            c.u64(what)
        } else {
            Ok(0)
        }
    };
    let boot_time_ns = opt(&mut c, "boot time")?;
    let flags = opt(&mut c, "flags")?;
    Ok(MachineInfo {
        num_cpus,
        memory_size_bytes,
        max_pid,
        hostname,
        boot_time_ns,
        flags,
        ..Default::default()
    })
}

fn new_thread() -> ThreadRecord {
    ThreadRecord {
        vtid: -1,
        vpid: -1,
        sid: -1,
        vpgid: -1,
        pgid: -1,
        loginuid: u32::MAX,
        ..Default::default()
    }
}

/// Decodes a process-list block of `version` 1..=9, appending its threads.
pub fn proc_list(body: &[u8], version: u8, big: bool, out: &mut Vec<ThreadRecord>) -> Result<()> {
    let mut c = Cur::new(body, big);
    while c.remaining() >= 4 {
        let start = c.pos;
        let sub_len = if version >= 9 {
            c.u32("entry length")? as usize
        } else {
            0
        };
        let mut t = new_thread();
        t.tid = c.i64("tid")?;
        t.pid = c.i64("pid")?;
        t.ptid = c.i64("ptid")?;
        if version >= 6 {
            t.sid = c.i64("sid")?;
        }
        if version >= 8 {
            t.vpgid = c.i64("vpgid")?;
        }
        t.comm = c.string("comm")?;
        t.exe = c.string("exe")?;
        if version >= 7 {
            t.exepath = c.string("exepath")?;
        }
        t.args = split_strings(c.lstr("args")?);
        t.cwd = c.string("cwd")?;
        t.fdlimit = c.i64("fdlimit")?;
        t.flags = c.u32("flags")?;
        t.uid = c.u32("uid")?;
        t.gid = c.u32("gid")?;
        if version >= 2 {
            t.vmsize_kb = c.u32("vmsize")?;
            t.vmrss_kb = c.u32("vmrss")?;
            t.vmswap_kb = c.u32("vmswap")?;
            t.pfmajor = c.u64("pfmajor")?;
            t.pfminor = c.u64("pfminor")?;
            if version >= 3 {
                t.env = split_strings(c.lstr("env")?);
            }
            if version >= 4 {
                t.vtid = c.i64("vtid")?;
                t.vpid = c.i64("vpid")?;
                t.cgroups = split_strings(c.lstr("cgroups")?)
                    .into_iter()
                    .map(|s| match s.split_once('=') {
                        Some((k, v)) => (k.to_string(), v.to_string()),
                        None => (s, String::new()),
                    })
                    .collect();
                if version >= 5 {
                    t.root = c.string("root")?;
                }
            }
        }
        if sub_len != 0 {
            let read = c.pos - start;
            if read > sub_len {
                return Err(DecodeError::new(
                    start,
                    format!("process entry declares {sub_len} bytes but its fields take {read}"),
                ));
            }
            let end = start + sub_len;
            if end > body.len() {
                return Err(DecodeError::new(
                    start,
                    format!("process entry of {sub_len} bytes overruns the block"),
                ));
            }
            let fits = |c: &Cur, n: usize| c.pos + n <= end;
            // libs 0.10 inserted two fields before the older optional ones;
            // writers before it left at most these 29 bytes here.
            let pre_0_10 = end - c.pos <= 29;
            if !pre_0_10 {
                if fits(&c, 8) {
                    t.pidns_init_start_ts = c.u64("pidns_init_start_ts")?;
                }
                if fits(&c, 4) {
                    t.tty = c.u32("tty")?;
                }
            }
            if fits(&c, 4) {
                t.loginuid = c.u32("loginuid")?;
            }
            if fits(&c, 1) {
                t.exe_writable = c.u8("exe_writable")? != 0;
            }
            if fits(&c, 8) {
                t.cap_inheritable = c.u64("cap_inheritable")?;
            }
            if fits(&c, 8) {
                t.cap_permitted = c.u64("cap_permitted")?;
            }
            if fits(&c, 8) {
                t.cap_effective = c.u64("cap_effective")?;
            }
            if fits(&c, 1) {
                t.exe_upper_layer = c.u8("exe_upper_layer")? != 0;
            }
            if fits(&c, 8) {
                t.exe_ino = c.u64("exe_ino")?;
            }
            if fits(&c, 8) {
                t.exe_ino_ctime = c.u64("exe_ino_ctime")?;
            }
            if fits(&c, 8) {
                t.exe_ino_mtime = c.u64("exe_ino_mtime")?;
            }
            if fits(&c, 1) {
                t.exe_from_memfd = c.u8("exe_from_memfd")? != 0;
            }
            if fits(&c, 1) {
                t.exe_lower_layer = c.u8("exe_lower_layer")? != 0;
            }
            if fits(&c, 8) {
                t.pgid = c.i64("pgid")?;
            }
            // Fields from newer writers are skipped.
            c.pos = end;
        }
        out.push(t);
    }
    Ok(())
}

/// Decodes an fd-list block: the owning thread id and its fds.
pub fn fd_list(body: &[u8], version: u8, big: bool) -> Result<(i64, Vec<FdRecord>)> {
    let mut c = Cur::new(body, big);
    let tid = c.i64("tid")?;
    let mut fds = Vec::new();
    while c.remaining() >= 4 {
        let start = c.pos;
        let sub_len = if version >= 2 {
            c.u32("entry length")? as usize
        } else {
            0
        };
        let fd = c.i64("fd")?;
        let ino = c.u64("ino")?;
        let ty = c.u8("fd type")?;
        let mut rec = FdRecord {
            fd,
            ino,
            kind: FdKind::from_u8(ty),
            ..Default::default()
        };
        match ty {
            3 => {
                let sip = c.raw4("source ip")?;
                let dip = c.raw4("dest ip")?;
                rec.target = FdTarget::Ipv4 {
                    sip: u32::from_be_bytes(sip),
                    dip: u32::from_be_bytes(dip),
                    sport: c.u16("sport")?,
                    dport: c.u16("dport")?,
                    l4proto: c.u8("l4proto")?,
                };
            }
            5 => {
                let ip = c.raw4("ip")?;
                rec.target = FdTarget::Ipv4Server {
                    ip: u32::from_be_bytes(ip),
                    port: c.u16("port")?,
                    l4proto: c.u8("l4proto")?,
                };
            }
            4 => {
                rec.target = FdTarget::Ipv6 {
                    sip: c.raw16("source ip")?,
                    dip: c.raw16("dest ip")?,
                    sport: c.u16("sport")?,
                    dport: c.u16("dport")?,
                    l4proto: c.u8("l4proto")?,
                };
            }
            6 => {
                rec.target = FdTarget::Ipv6Server {
                    ip: c.raw16("ip")?,
                    port: c.u16("port")?,
                    l4proto: c.u8("l4proto")?,
                };
            }
            8 => {
                rec.target = FdTarget::Unix {
                    source: c.u64("unix source")?,
                    dest: c.u64("unix dest")?,
                    path: c.string("unix path")?,
                };
            }
            16 => {
                rec.flags = c.u32("open flags")?;
                rec.target = FdTarget::Name(c.string("file name")?);
                if sub_len != 0 && start + sub_len >= c.pos + 4 {
                    rec.dev = c.u32("dev")?;
                }
            }
            1 | 2 | 7 | 9..=15 | 17..=21 => {
                rec.target = FdTarget::Name(c.string("fd name")?);
            }
            0 => {}
            other => {
                if sub_len == 0 {
                    return Err(DecodeError::new(
                        start,
                        format!("unknown fd type {other} in a version-1 fd list"),
                    ));
                }
                // A newer producer's fd type: keep it as unsupported, like libscap.
                rec.kind = FdKind::Unsupported;
                rec.target = FdTarget::Name(format!("unknown-type:[{other}]"));
            }
        }
        if sub_len != 0 {
            let read = c.pos - start;
            if read > sub_len {
                return Err(DecodeError::new(
                    start,
                    format!("fd entry declares {sub_len} bytes but its fields take {read}"),
                ));
            }
            c.skip(sub_len - read, "fd entry")?;
        }
        fds.push(rec);
    }
    Ok((tid, fds))
}

/// Decodes a user-list block (users and groups).
pub fn user_list(
    body: &[u8],
    version: u8,
    big: bool,
    users: &mut Vec<UserRecord>,
    groups: &mut Vec<GroupRecord>,
) -> Result<()> {
    let mut c = Cur::new(body, big);
    while c.remaining() >= 4 {
        let start = c.pos;
        let sub_len = if version >= 2 {
            c.u32("entry length")? as usize
        } else {
            0
        };
        let ty = c.u8("entry type")?;
        if ty == 0 {
            let uid = c.u32("uid")?;
            let gid = c.u32("gid")?;
            users.push(UserRecord {
                uid,
                gid,
                name: c.string("user name")?,
                homedir: c.string("home dir")?,
                shell: c.string("shell")?,
                container_id: String::new(),
            });
        } else {
            let gid = c.u32("gid")?;
            groups.push(GroupRecord {
                gid,
                name: c.string("group name")?,
                container_id: String::new(),
            });
        }
        if sub_len != 0 {
            let read = c.pos - start;
            if read > sub_len {
                return Err(DecodeError::new(
                    start,
                    format!("user entry declares {sub_len} bytes but its fields take {read}"),
                ));
            }
            c.skip(sub_len - read, "user entry")?;
        }
    }
    Ok(())
}

/// Decodes an interface-list block.
pub fn interface_list(
    body: &[u8],
    version: u8,
    big: bool,
    out: &mut Vec<InterfaceRecord>,
) -> Result<()> {
    let mut c = Cur::new(body, big);
    while c.remaining() >= 4 {
        let entry_len = if version >= 2 {
            Some(c.u32("entry length")? as usize)
        } else {
            None
        };
        let start = c.pos;
        let ty = c.u16("interface type")?;
        let namelen = c.u16("name length")? as usize;
        let rec = match ty {
            1 | 3 => {
                let addr = u32::from_be_bytes(c.raw4("address")?);
                let netmask = u32::from_be_bytes(c.raw4("netmask")?);
                let bcast = u32::from_be_bytes(c.raw4("broadcast")?);
                let linkspeed = if ty == 1 { c.u64("link speed")? } else { 0 };
                InterfaceRecord {
                    name: lossy(c.bytes(namelen, "interface name")?),
                    addr: InterfaceAddr::V4(addr),
                    netmask: InterfaceAddr::V4(netmask),
                    broadcast: InterfaceAddr::V4(bcast),
                    linkspeed,
                }
            }
            2 | 4 => {
                let addr = c.raw16("address")?;
                let netmask = c.raw16("netmask")?;
                let bcast = c.raw16("broadcast")?;
                let linkspeed = if ty == 2 { c.u64("link speed")? } else { 0 };
                InterfaceRecord {
                    name: lossy(c.bytes(namelen, "interface name")?),
                    addr: InterfaceAddr::V6(addr),
                    netmask: InterfaceAddr::V6(netmask),
                    broadcast: InterfaceAddr::V6(bcast),
                    linkspeed,
                }
            }
            other => {
                return Err(DecodeError::new(
                    start,
                    format!("unknown interface type {other}"),
                ))
            }
        };
        if let Some(len) = entry_len {
            let read = c.pos - start;
            if read > len {
                return Err(DecodeError::new(
                    start,
                    format!("interface entry declares {len} bytes but its fields take {read}"),
                ));
            }
            c.skip(len - read, "interface entry")?;
        }
        out.push(rec);
    }
    Ok(())
}

/// The parts of an event block body.
#[derive(Debug, Clone, Copy)]
pub struct EventBlock<'a> {
    pub cpu: u16,
    pub flags: u32,
    /// From the event header to the end of the body (the event may be
    /// followed by padding or options).
    pub event: &'a [u8],
}

/// Event header length: v2 events carry `nparams`, v1 events do not.
pub const fn event_header_len(v2: bool) -> usize {
    if v2 {
        26
    } else {
        22
    }
}

/// Splits an event block body; checks the event header fits and the event's
/// declared length fits the block.
pub fn event_block(body: &[u8], kind: BlockKind, big: bool) -> Result<EventBlock<'_>> {
    let BlockKind::Event { v2, flags, .. } = kind else {
        return Err(DecodeError::new(0, "not an event block"));
    };
    let mut c = Cur::new(body, big);
    let cpu = c.u16("cpu")?;
    let flags = if flags { c.u32("event flags")? } else { 0 };
    let at = c.pos;
    let event = &body[at..];
    let hdr = event_header_len(v2);
    if event.len() < hdr {
        return Err(DecodeError::new(
            at,
            format!(
                "event header needs {hdr} bytes, block has {} left",
                event.len()
            ),
        ));
    }
    let mut h = Cur::new(&event[16..20], big);
    let len = h.u32("event length")? as usize;
    if len < hdr {
        return Err(DecodeError::new(
            at + 16,
            format!("event length {len} is smaller than its {hdr}-byte header"),
        ));
    }
    if len > event.len() {
        return Err(DecodeError::new(
            at + 16,
            format!(
                "event length {len} is larger than the {} bytes left in the block",
                event.len()
            ),
        ));
    }
    Ok(EventBlock { cpu, flags, event })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_header_both_orders_and_comments() {
        let mut b = Vec::new();
        b.extend_from_slice(&SHB_MAGIC.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&(-1i64).to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&5u16.to_le_bytes());
        b.extend_from_slice(b"hello\0\0\0");
        b.extend_from_slice(&[0, 0, 0, 0]);
        let s = section_header(&b).unwrap();
        assert_eq!((s.big_endian, s.major, s.minor), (false, 1, 2));
        assert_eq!(s.comments, vec!["hello".to_string()]);

        let mut be = Vec::new();
        be.extend_from_slice(&SHB_MAGIC.to_be_bytes());
        be.extend_from_slice(&1u16.to_be_bytes());
        be.extend_from_slice(&0u16.to_be_bytes());
        be.extend_from_slice(&(-1i64).to_be_bytes());
        let s = section_header(&be).unwrap();
        assert!(s.big_endian);
        assert_eq!((s.major, s.minor, s.section_length), (1, 0, -1));

        assert!(section_header(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]).is_err());
        assert!(section_header(&b[..10]).is_err());
    }

    #[test]
    fn truncated_entries_are_errors() {
        let mut out = Vec::new();
        let e = proc_list(&[0u8; 30], 9, false, &mut out).unwrap_err();
        assert!(
            e.message.contains("overruns") || e.message.contains("need"),
            "{e:?}"
        );
        assert!(fd_list(&[1, 2, 3], 2, false).is_err());
    }
}
