//! The capture-file writer. It writes the block versions libscap has written
//! since 2019 (process list v9, fd list v2, user and interface lists v2, v2
//! event blocks), which both current libscap and Debian's sysdig 0.29 read.
//! The live source reuses it: hand it [`Tables`] and then events.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use peregrine_event::records::{
    FdKind, FdRecord, FdTarget, InterfaceAddr, InterfaceRecord, ThreadRecord,
};
use peregrine_event::source::{SourcedEvent, Tables};
use peregrine_event::RawEvent;

use crate::block::*;
use crate::convert::event_to_big_endian;

/// Limits libscap readers enforce on process-list strings.
const MAX_PATH: usize = 1024;
const MAX_ARGS: usize = 4096;
const MAX_ENV: usize = 4096;
const MAX_CGROUPS: usize = 4096;
/// libscap rejects fd names of this length or more.
const MAX_FD_NAME: usize = 1023;
const MAX_CREDENTIAL: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ByteOrder {
    #[default]
    Little,
    /// What a big-endian machine would write; for interoperability tests.
    Big,
}

/// Writes a scap capture: the section header and tables first, then events.
pub struct ScapWriter<W: Write> {
    out: W,
    big: bool,
    block: Vec<u8>,
    scratch: Vec<u8>,
    events: u64,
}

/// A capture file being written, plain or gzip-compressed, counting the
/// bytes that reach the file (after compression).
pub enum FileOut {
    Plain(Counted<BufWriter<File>>),
    Gzip(flate2::write::GzEncoder<Counted<BufWriter<File>>>),
}

/// A writer that counts what passes through it.
pub struct Counted<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(b)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Write for FileOut {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        match self {
            FileOut::Plain(w) => w.write(b),
            FileOut::Gzip(w) => w.write(b),
        }
    }
    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        match self {
            FileOut::Plain(w) => w.write_all(b),
            FileOut::Gzip(w) => w.write_all(b),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            FileOut::Plain(w) => w.flush(),
            FileOut::Gzip(w) => w.flush(),
        }
    }
}

impl ScapWriter<FileOut> {
    /// Creates `path` (gzip-compressed when it ends in `.gz`) and writes the
    /// header and `tables`.
    pub fn create(path: impl AsRef<Path>, tables: &Tables) -> io::Result<Self> {
        let path = path.as_ref();
        let gzip = path.extension().is_some_and(|e| e == "gz");
        Self::create_with(path, tables, gzip)
    }

    /// Creates `path`, gzip-compressed or not whatever its name (Falco's
    /// rule-triggered captures are compressed `.scap` files).
    pub fn create_with(path: impl AsRef<Path>, tables: &Tables, gzip: bool) -> io::Result<Self> {
        let f = Counted {
            inner: BufWriter::with_capacity(1 << 20, File::create(path.as_ref())?),
            bytes: 0,
        };
        let out = if gzip {
            FileOut::Gzip(flate2::write::GzEncoder::new(
                f,
                flate2::Compression::default(),
            ))
        } else {
            FileOut::Plain(f)
        };
        ScapWriter::new(out, tables)
    }

    /// Bytes handed to the file so far, compressed; the compressor's and
    /// the file buffer's contents are not yet counted, so this trails the
    /// final size by up to one flush window.
    pub fn file_bytes(&self) -> u64 {
        match &self.out {
            FileOut::Plain(w) => w.bytes,
            FileOut::Gzip(w) => w.get_ref().bytes,
        }
    }

    /// Finishes the file (gzip trailer included) and syncs nothing further.
    pub fn close(self) -> io::Result<()> {
        match self.finish()? {
            FileOut::Plain(mut w) => w.flush(),
            FileOut::Gzip(w) => w.finish()?.flush(),
        }
    }
}

/// Block body builder in the chosen byte order.
struct Enc<'a> {
    b: &'a mut Vec<u8>,
    big: bool,
}

impl Enc<'_> {
    fn u8(&mut self, v: u8) {
        self.b.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.b.extend_from_slice(&if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    fn u32(&mut self, v: u32) {
        self.b.extend_from_slice(&if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    fn u64(&mut self, v: u64) {
        self.b.extend_from_slice(&if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }
    fn i64(&mut self, v: i64) {
        self.u64(v as u64);
    }
    fn raw(&mut self, v: &[u8]) {
        self.b.extend_from_slice(v);
    }
    /// `u16 length` + bytes, cut to `max`.
    fn lstr(&mut self, v: &[u8], max: usize) {
        let v = &v[..v.len().min(max)];
        self.u16(v.len() as u16);
        self.raw(v);
    }
}

/// Strings joined with a NUL after each, as libscap stores argv/env.
fn joined<'a>(parts: impl Iterator<Item = &'a str>) -> Vec<u8> {
    let mut v = Vec::new();
    for p in parts {
        v.extend_from_slice(p.as_bytes());
        v.push(0);
    }
    v
}

fn pad4(n: usize) -> usize {
    (n + 3) & !3
}

impl<W: Write> ScapWriter<W> {
    /// Starts a little-endian capture on `out`.
    pub fn new(out: W, tables: &Tables) -> io::Result<Self> {
        Self::with_byte_order(out, tables, ByteOrder::Little)
    }

    pub fn with_byte_order(out: W, tables: &Tables, order: ByteOrder) -> io::Result<Self> {
        let mut w = ScapWriter {
            out,
            big: order == ByteOrder::Big,
            block: Vec::with_capacity(1 << 16),
            scratch: Vec::new(),
            events: 0,
        };
        w.write_header(tables)?;
        Ok(w)
    }

    pub fn events_written(&self) -> u64 {
        self.events
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    fn enc(&mut self) -> Enc<'_> {
        Enc {
            b: &mut self.block,
            big: self.big,
        }
    }

    /// Writes `self.block` as the body of a block of type `ty`.
    fn emit(&mut self, ty: u32) -> io::Result<()> {
        let body = self.block.len();
        let total = (pad4(body) + BLOCK_OVERHEAD) as u32;
        let word = |v: u32, big: bool| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        self.out.write_all(&word(ty, self.big))?;
        self.out.write_all(&word(total, self.big))?;
        self.out.write_all(&self.block)?;
        self.out.write_all(&[0u8; 3][..pad4(body) - body])?;
        self.out.write_all(&word(total, self.big))?;
        self.block.clear();
        Ok(())
    }

    fn write_header(&mut self, t: &Tables) -> io::Result<()> {
        // Section header: version 1.2, unknown section length, no options.
        let mut e = self.enc();
        e.u32(SHB_MAGIC);
        e.u16(CURRENT_MAJOR_VERSION);
        e.u16(CURRENT_MINOR_VERSION);
        e.i64(-1);
        self.emit(SHB_BLOCK_TYPE)?;

        if let Some(m) = &t.machine {
            let mut e = self.enc();
            e.u32(m.num_cpus);
            e.u64(m.memory_size_bytes);
            e.u64(m.max_pid);
            let mut host = [0u8; 128];
            let h = m.hostname.as_bytes();
            let n = h.len().min(127);
            host[..n].copy_from_slice(&h[..n]);
            e.raw(&host);
            e.u64(m.boot_time_ns);
            e.u64(m.flags);
            e.u64(0);
            e.u64(0);
            self.emit(MI_BLOCK_TYPE)?;
        }

        if !t.interfaces.is_empty() {
            for i in &t.interfaces {
                self.interface_entry(i);
            }
            self.emit(IL_BLOCK_TYPE_V2)?;
        }

        if !t.users.is_empty() || !t.groups.is_empty() {
            let mut e = self.enc();
            for u in &t.users {
                let name = &u.name.as_bytes()[..u.name.len().min(MAX_CREDENTIAL)];
                let home = &u.homedir.as_bytes()[..u.homedir.len().min(MAX_PATH)];
                let shell = &u.shell.as_bytes()[..u.shell.len().min(MAX_PATH)];
                e.u32((4 + 1 + 4 + 4 + 6 + name.len() + home.len() + shell.len()) as u32);
                e.u8(0);
                e.u32(u.uid);
                e.u32(u.gid);
                e.lstr(name, usize::MAX);
                e.lstr(home, usize::MAX);
                e.lstr(shell, usize::MAX);
            }
            for g in &t.groups {
                let name = &g.name.as_bytes()[..g.name.len().min(MAX_CREDENTIAL)];
                e.u32((4 + 1 + 4 + 2 + name.len()) as u32);
                e.u8(1);
                e.u32(g.gid);
                e.lstr(name, usize::MAX);
            }
            self.emit(UL_BLOCK_TYPE_V2)?;
        }

        if !t.threads.is_empty() {
            for th in &t.threads {
                self.thread_entry(th);
            }
            self.emit(PL_BLOCK_TYPE_V9)?;
            for th in &t.threads {
                if th.fds.iter().all(|f| f.kind == FdKind::Unknown) {
                    continue;
                }
                let mut e = self.enc();
                e.i64(th.tid);
                for fd in &th.fds {
                    Self::fd_entry(&mut e, fd);
                }
                self.emit(FDL_BLOCK_TYPE_V2)?;
            }
        }
        Ok(())
    }

    fn interface_entry(&mut self, i: &InterfaceRecord) {
        let name = &i.name.as_bytes()[..i.name.len().min(MAX_PATH - 1)];
        let v4 = |a: &InterfaceAddr| match a {
            InterfaceAddr::V4(x) => x.to_be_bytes(),
            _ => [0; 4],
        };
        let v6 = |a: &InterfaceAddr| match a {
            InterfaceAddr::V6(x) => *x,
            _ => [0; 16],
        };
        let mut e = self.enc();
        if matches!(i.addr, InterfaceAddr::V6(_)) {
            e.u32((2 + 2 + 48 + 8 + name.len()) as u32);
            e.u16(2);
            e.u16(name.len() as u16);
            e.raw(&v6(&i.addr));
            e.raw(&v6(&i.netmask));
            e.raw(&v6(&i.broadcast));
        } else {
            e.u32((2 + 2 + 12 + 8 + name.len()) as u32);
            e.u16(1);
            e.u16(name.len() as u16);
            e.raw(&v4(&i.addr));
            e.raw(&v4(&i.netmask));
            e.raw(&v4(&i.broadcast));
        }
        e.u64(i.linkspeed);
        e.raw(name);
    }

    fn thread_entry(&mut self, t: &ThreadRecord) {
        let args = joined(t.args.iter().map(String::as_str));
        let env = joined(t.env.iter().map(String::as_str));
        let cg: Vec<String> = t
            .cgroups
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    k.clone()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        let cgroups = joined(cg.iter().map(String::as_str));
        let start = self.block.len();
        let mut e = self.enc();
        e.u32(0); // entry length, patched below
        e.i64(t.tid);
        e.i64(t.pid);
        e.i64(t.ptid);
        e.i64(t.sid);
        e.i64(t.vpgid);
        e.lstr(t.comm.as_bytes(), MAX_PATH);
        e.lstr(t.exe.as_bytes(), MAX_PATH);
        e.lstr(t.exepath.as_bytes(), MAX_PATH);
        e.lstr(&args, MAX_ARGS);
        e.lstr(t.cwd.as_bytes(), MAX_PATH);
        e.i64(t.fdlimit);
        e.u32(t.flags);
        e.u32(t.uid);
        e.u32(t.gid);
        e.u32(t.vmsize_kb);
        e.u32(t.vmrss_kb);
        e.u32(t.vmswap_kb);
        e.u64(t.pfmajor);
        e.u64(t.pfminor);
        e.lstr(&env, MAX_ENV);
        e.i64(t.vtid);
        e.i64(t.vpid);
        e.lstr(&cgroups, MAX_CGROUPS);
        e.lstr(t.root.as_bytes(), MAX_PATH);
        e.u64(t.pidns_init_start_ts);
        e.u32(t.tty);
        e.u32(t.loginuid);
        e.u8(t.exe_writable as u8);
        e.u64(t.cap_inheritable);
        e.u64(t.cap_permitted);
        e.u64(t.cap_effective);
        e.u8(t.exe_upper_layer as u8);
        e.u64(t.exe_ino);
        e.u64(t.exe_ino_ctime);
        e.u64(t.exe_ino_mtime);
        e.u8(t.exe_from_memfd as u8);
        e.u8(t.exe_lower_layer as u8);
        e.i64(t.pgid);
        let len = (self.block.len() - start) as u32;
        let bytes = if self.big {
            len.to_be_bytes()
        } else {
            len.to_le_bytes()
        };
        self.block[start..start + 4].copy_from_slice(&bytes);
    }

    fn fd_entry(e: &mut Enc<'_>, fd: &FdRecord) {
        if fd.kind == FdKind::Unknown {
            return; // libscap never writes these
        }
        let start = e.b.len();
        e.u32(0);
        e.i64(fd.fd);
        e.u64(fd.ino);
        // Kinds newer than FILE_V2 (bpf, userfaultfd, io_uring, memfd,
        // pidfd) make sysdig 0.29 and other older readers reject the whole
        // fd list; they are written as "unsupported" with their name.
        let kind = if (fd.kind as u8) > FdKind::FileV2 as u8 {
            FdKind::Unsupported as u8
        } else {
            fd.kind as u8
        };
        e.u8(kind);
        let name = |t: &FdTarget| match t {
            FdTarget::Name(n) => n.as_bytes().to_vec(),
            FdTarget::Unix { path, .. } => path.as_bytes().to_vec(),
            _ => Vec::new(),
        };
        match fd.kind {
            FdKind::Ipv4Sock => {
                let (sip, dip, sport, dport, l4) = match fd.target {
                    FdTarget::Ipv4 {
                        sip,
                        dip,
                        sport,
                        dport,
                        l4proto,
                    } => (sip, dip, sport, dport, l4proto),
                    _ => Default::default(),
                };
                e.raw(&sip.to_be_bytes());
                e.raw(&dip.to_be_bytes());
                e.u16(sport);
                e.u16(dport);
                e.u8(l4);
            }
            FdKind::Ipv4ServSock => {
                let (ip, port, l4) = match fd.target {
                    FdTarget::Ipv4Server { ip, port, l4proto } => (ip, port, l4proto),
                    _ => Default::default(),
                };
                e.raw(&ip.to_be_bytes());
                e.u16(port);
                e.u8(l4);
            }
            FdKind::Ipv6Sock => {
                let (sip, dip, sport, dport, l4) = match fd.target {
                    FdTarget::Ipv6 {
                        sip,
                        dip,
                        sport,
                        dport,
                        l4proto,
                    } => (sip, dip, sport, dport, l4proto),
                    _ => ([0; 16], [0; 16], 0, 0, 0),
                };
                e.raw(&sip);
                e.raw(&dip);
                e.u16(sport);
                e.u16(dport);
                e.u8(l4);
            }
            FdKind::Ipv6ServSock => {
                let (ip, port, l4) = match fd.target {
                    FdTarget::Ipv6Server { ip, port, l4proto } => (ip, port, l4proto),
                    _ => ([0; 16], 0, 0),
                };
                e.raw(&ip);
                e.u16(port);
                e.u8(l4);
            }
            FdKind::UnixSock => {
                let (src, dst) = match fd.target {
                    FdTarget::Unix { source, dest, .. } => (source, dest),
                    _ => (0, 0),
                };
                e.u64(src);
                e.u64(dst);
                e.lstr(&name(&fd.target), MAX_FD_NAME);
            }
            FdKind::FileV2 => {
                e.u32(fd.flags);
                e.lstr(&name(&fd.target), MAX_FD_NAME);
                e.u32(fd.dev);
            }
            _ => e.lstr(&name(&fd.target), MAX_FD_NAME),
        }
        let len = (e.b.len() - start) as u32;
        let bytes = if e.big {
            len.to_be_bytes()
        } else {
            len.to_le_bytes()
        };
        e.b[start..start + 4].copy_from_slice(&bytes);
    }

    /// Appends one event.
    pub fn write_event(&mut self, ev: &SourcedEvent<'_>) -> io::Result<()> {
        self.write_raw(ev.cpu, ev.flags, &ev.event)
    }

    /// Appends one event given its parts.
    pub fn write_raw(&mut self, cpu: u16, flags: u32, ev: &RawEvent<'_>) -> io::Result<()> {
        let flags = flags & !SCAP_DF_LARGE;
        let large = ev.large_payload();
        let ty = match (flags != 0, large) {
            (false, false) => EV_BLOCK_TYPE_V2,
            (false, true) => EV_BLOCK_TYPE_V2_LARGE,
            (true, false) => EVF_BLOCK_TYPE_V2,
            (true, true) => EVF_BLOCK_TYPE_V2_LARGE,
        };
        let bytes: &[u8] = if self.big {
            event_to_big_endian(ev, &mut self.scratch);
            &self.scratch
        } else {
            ev.as_bytes()
        };
        let body = 2 + if flags != 0 { 4 } else { 0 } + bytes.len();
        let total = (pad4(body) + BLOCK_OVERHEAD) as u32;
        let big = self.big;
        let w32 = |v: u32| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        let w16 = |v: u16| {
            if big {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            }
        };
        self.out.write_all(&w32(ty))?;
        self.out.write_all(&w32(total))?;
        self.out.write_all(&w16(cpu))?;
        if flags != 0 {
            self.out.write_all(&w32(flags))?;
        }
        self.out.write_all(bytes)?;
        self.out.write_all(&[0u8; 3][..pad4(body) - body])?;
        self.out.write_all(&w32(total))?;
        self.events += 1;
        Ok(())
    }
}
