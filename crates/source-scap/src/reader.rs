//! The capture-file reader: an [`EventSource`] over a scap file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use peregrine_event::records::ThreadRecord;
use peregrine_event::source::{EventSource, Next, SourcedEvent, Tables};
use peregrine_event::table::EVENT_MAX;
use peregrine_event::RawEvent;

use crate::block::{BlockKind, BLOCK_OVERHEAD, SHB_BLOCK_TYPE};
use crate::convert::normalize_event;
use crate::decode::{self, DecodeError, Section};
use crate::error::{ErrorKind, ScapError};
use crate::input::Input;

/// Largest block accepted. libscap caps ordinary event blocks at 64 KiB;
/// tables and large-payload events may be bigger, but not without bound.
pub const MAX_BLOCK_LEN: u32 = 256 << 20;
/// Ordinary (not large-payload) event blocks, as libscap limits them.
pub const MAX_EVENT_BLOCK_LEN: u32 = 1 << 16;

/// Counters a reader keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    pub blocks: u64,
    pub events: u64,
    /// Events of types past the event table (from newer producers), skipped.
    pub skipped_unknown_types: u64,
    /// Blocks of unknown types, skipped.
    pub skipped_blocks: u64,
    /// Events that needed conversion (v1 layout or big-endian section).
    pub converted: u64,
}

/// Reads a scap capture, plain or gzip-compressed.
///
/// Tables (machine, processes with their fds, users, interfaces) from the
/// blocks before the first event are available from [`ScapReader::tables`]
/// right after opening; table blocks later in the file update them.
pub struct ScapReader {
    path: PathBuf,
    compressed: bool,
    input: Input,
    section: Section,
    tables: Tables,
    thread_index: HashMap<i64, usize>,
    /// Bytes of the block last returned, consumed on the next call.
    pending: usize,
    block_index: u64,
    num: u64,
    scratch: Vec<u8>,
    stats: ReadStats,
    done: bool,
}

struct BlockHead {
    ty: u32,
    len: u32,
    offset: u64,
}

enum Step {
    Event {
        at: usize,
        cpu: u16,
        flags: u32,
        converted: bool,
    },
    Table,
    Skip,
}

impl ScapReader {
    /// Opens a capture file; gzip is detected from the content.
    pub fn open(path: impl AsRef<Path>) -> Result<ScapReader, ScapError> {
        let path = path.as_ref();
        let f = File::open(path).map_err(|e| ScapError {
            path: path.to_path_buf(),
            compressed: false,
            block_index: None,
            block_type: None,
            offset: 0,
            kind: ErrorKind::Open(e),
        })?;
        Self::from_read(path, f)
    }

    /// Reads a capture from any byte stream (gzip detected from the content).
    pub fn from_read(
        name: impl AsRef<Path>,
        mut r: impl Read + Send + 'static,
    ) -> Result<ScapReader, ScapError> {
        let name = name.as_ref();
        let mut magic = [0u8; 2];
        let n = read_full(&mut r, &mut magic).map_err(|e| io_error(name, false, 0, e))?;
        let head = io::Cursor::new(magic[..n].to_vec()).chain(r);
        let compressed = n == 2 && magic == [0x1f, 0x8b];
        let src: Box<dyn Read + Send> = if compressed {
            Box::new(flate2::read::MultiGzDecoder::new(head))
        } else {
            Box::new(head)
        };
        let mut rd = ScapReader {
            path: name.to_path_buf(),
            compressed,
            input: Input::new(src),
            section: Section::default(),
            tables: Tables::default(),
            thread_index: HashMap::new(),
            pending: 0,
            block_index: 0,
            num: 0,
            scratch: Vec::new(),
            stats: ReadStats::default(),
            done: false,
        };
        rd.read_header()?;
        Ok(rd)
    }

    /// Reads a capture held in memory.
    pub fn from_bytes(name: impl AsRef<Path>, bytes: Vec<u8>) -> Result<ScapReader, ScapError> {
        Self::from_read(name, io::Cursor::new(bytes))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Whether the file is gzip-compressed.
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }
    /// The current section's header (version, byte order, comments).
    pub fn section(&self) -> &Section {
        &self.section
    }
    pub fn stats(&self) -> ReadStats {
        self.stats
    }
    /// Tables read so far.
    pub fn tables(&self) -> &Tables {
        &self.tables
    }

    /// Gives the tables away (the process table moved, the small ones
    /// copied), for state to be seeded without a second copy: on a busy
    /// host's capture the process table is much of a replay's memory.
    /// Table blocks later in the file start a new one.
    pub fn take_tables(&mut self) -> Tables {
        self.thread_index = HashMap::new();
        self.tables.take()
    }

    fn err(&self, block: Option<&BlockHead>, offset: u64, kind: ErrorKind) -> ScapError {
        ScapError {
            path: self.path.clone(),
            compressed: self.compressed,
            block_index: block.map(|_| self.block_index),
            block_type: block.map(|b| b.ty),
            offset,
            kind,
        }
    }

    fn malformed(&self, b: &BlockHead, body_at: u64, e: DecodeError) -> ScapError {
        self.err(
            Some(b),
            body_at + e.at as u64,
            ErrorKind::Malformed(e.message),
        )
    }

    /// Reads the section header and the table blocks up to the first event.
    fn read_header(&mut self) -> Result<(), ScapError> {
        let avail = self.fill(8, None)?;
        if avail < 8 || self.input.data()[..4] != SHB_BLOCK_TYPE.to_le_bytes() {
            return Err(self.err(None, 0, ErrorKind::NotScap));
        }
        loop {
            let Some(head) = self.peek_head()? else {
                return Ok(());
            };
            if BlockKind::of(head.ty).is_event() {
                return Ok(());
            }
            self.process_block(&head)?;
        }
    }

    fn fill(&mut self, need: usize, block: Option<&BlockHead>) -> Result<usize, ScapError> {
        match self.input.fill(need) {
            Ok(n) => Ok(n),
            Err(e) => {
                let off = self.input.offset();
                Err(self.err(block, off, ErrorKind::Io(e)))
            }
        }
    }

    /// Reads the next block header without consuming it; `None` at a clean end.
    fn peek_head(&mut self) -> Result<Option<BlockHead>, ScapError> {
        let offset = self.input.offset();
        let avail = self.fill(8, None)?;
        if avail == 0 {
            return Ok(None);
        }
        if avail < 8 {
            return Err(self.err(
                None,
                offset,
                ErrorKind::Truncated {
                    need: 8,
                    have: avail as u64,
                },
            ));
        }
        let d = self.input.data();
        let raw_ty = u32::from_le_bytes([d[0], d[1], d[2], d[3]]);
        // A section header switches byte order; its type reads the same both ways.
        let big = self.section.big_endian && raw_ty != SHB_BLOCK_TYPE;
        let rd32 = |b: [u8; 4]| {
            if big {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let ty = rd32([d[0], d[1], d[2], d[3]]);
        let mut len = rd32([d[4], d[5], d[6], d[7]]);
        if ty == SHB_BLOCK_TYPE && d.len() >= 12 {
            // The section's own magic decides how to read its length.
            if u32::from_le_bytes([d[8], d[9], d[10], d[11]]) == crate::block::SHB_MAGIC_SWAPPED {
                len = u32::from_be_bytes([d[4], d[5], d[6], d[7]]);
            } else {
                len = u32::from_le_bytes([d[4], d[5], d[6], d[7]]);
            }
        }
        let head = BlockHead { ty, len, offset };
        let kind = BlockKind::of(ty);
        let limit = match kind {
            BlockKind::Event { large: false, .. } => MAX_EVENT_BLOCK_LEN + BLOCK_OVERHEAD as u32,
            _ => MAX_BLOCK_LEN,
        };
        if (len as usize) < BLOCK_OVERHEAD || len > limit {
            return Err(self.err(
                Some(&head),
                offset + 4,
                ErrorKind::BadBlockLength {
                    len,
                    limit: limit as u64,
                },
            ));
        }
        Ok(Some(head))
    }

    /// Makes the whole block available and checks its trailer; returns the body.
    fn load_block(&mut self, head: &BlockHead) -> Result<(), ScapError> {
        let len = head.len as usize;
        let avail = self.fill(len, Some(head))?;
        if avail < len {
            return Err(self.err(
                Some(head),
                head.offset + avail as u64,
                ErrorKind::Truncated {
                    need: len as u64,
                    have: avail as u64,
                },
            ));
        }
        let d = &self.input.data()[..len];
        let t = [d[len - 4], d[len - 3], d[len - 2], d[len - 1]];
        let big = if head.ty == SHB_BLOCK_TYPE {
            d.len() >= 12
                && u32::from_le_bytes([d[8], d[9], d[10], d[11]]) == crate::block::SHB_MAGIC_SWAPPED
        } else {
            self.section.big_endian
        };
        let trailer = if big {
            u32::from_be_bytes(t)
        } else {
            u32::from_le_bytes(t)
        };
        if trailer != head.len {
            return Err(self.err(
                Some(head),
                head.offset + len as u64 - 4,
                ErrorKind::BadTrailer {
                    header: head.len,
                    trailer,
                },
            ));
        }
        Ok(())
    }

    /// Decodes one block (already peeked) and consumes it, unless it is an
    /// event block (whose event borrows the window until the next call).
    fn process_block(&mut self, head: &BlockHead) -> Result<Step, ScapError> {
        self.load_block(head)?;
        let len = head.len as usize;
        let body_at = head.offset + 8;
        let kind = BlockKind::of(head.ty);
        let big = self.section.big_endian;
        let step = {
            let body = &self.input.data()[8..len - 4];
            match kind {
                BlockKind::SectionHeader => {
                    let s = decode::section_header(body)
                        .map_err(|e| self.malformed(head, body_at, e))?;
                    if s.major > crate::block::CURRENT_MAJOR_VERSION {
                        return Err(self.err(
                            Some(head),
                            body_at + 4,
                            ErrorKind::UnsupportedVersion {
                                major: s.major,
                                minor: s.minor,
                            },
                        ));
                    }
                    self.section = s;
                    Step::Table
                }
                BlockKind::MachineInfo => {
                    let mi = decode::machine_info(body, big)
                        .map_err(|e| self.malformed(head, body_at, e))?;
                    self.tables.machine = Some(mi);
                    Step::Table
                }
                BlockKind::ProcList(v) => {
                    let mut threads = Vec::new();
                    decode::proc_list(body, v, big, &mut threads)
                        .map_err(|e| self.malformed(head, body_at, e))?;
                    for t in threads {
                        self.add_thread(t);
                    }
                    Step::Table
                }
                BlockKind::FdList(v) => {
                    let (tid, fds) = decode::fd_list(body, v, big)
                        .map_err(|e| self.malformed(head, body_at, e))?;
                    if let Some(&i) = self.thread_index.get(&tid) {
                        let t = &mut self.tables.threads[i];
                        for fd in fds {
                            // A later entry for the same fd replaces the earlier one.
                            t.fds.retain(|f| f.fd != fd.fd);
                            t.fds.push(fd);
                        }
                    }
                    Step::Table
                }
                BlockKind::UserList(v) => {
                    let (mut users, mut groups) = (Vec::new(), Vec::new());
                    decode::user_list(body, v, big, &mut users, &mut groups)
                        .map_err(|e| self.malformed(head, body_at, e))?;
                    self.tables.users = users;
                    self.tables.groups = groups;
                    Step::Table
                }
                BlockKind::InterfaceList(v) => {
                    let mut ifs = Vec::new();
                    decode::interface_list(body, v, big, &mut ifs)
                        .map_err(|e| self.malformed(head, body_at, e))?;
                    self.tables.interfaces = ifs;
                    Step::Table
                }
                BlockKind::Event { v2, .. } => {
                    let eb = decode::event_block(body, kind, big)
                        .map_err(|e| self.malformed(head, body_at, e))?;
                    let ev_at = 8 + (eb.event.as_ptr() as usize - body.as_ptr() as usize);
                    let ty_bytes = [eb.event[20], eb.event[21]];
                    let ty = if big {
                        u16::from_be_bytes(ty_bytes)
                    } else {
                        u16::from_le_bytes(ty_bytes)
                    };
                    if ty as usize >= EVENT_MAX {
                        // A newer producer's event: libscap skips these too.
                        self.stats.skipped_unknown_types += 1;
                        Step::Skip
                    } else if v2 && !big {
                        // Validated by the caller, which reports errors with context.
                        Step::Event {
                            at: ev_at,
                            cpu: eb.cpu,
                            flags: eb.flags,
                            converted: false,
                        }
                    } else {
                        let (cpu, flags) = (eb.cpu, eb.flags);
                        let mut scratch = std::mem::take(&mut self.scratch);
                        let res = normalize_event(eb.event, v2, big, &mut scratch);
                        self.scratch = scratch;
                        if let Err(m) = res {
                            return Err(self.err(
                                Some(head),
                                head.offset + ev_at as u64,
                                ErrorKind::Malformed(m),
                            ));
                        }
                        Step::Event {
                            at: ev_at,
                            cpu,
                            flags,
                            converted: true,
                        }
                    }
                }
                BlockKind::Unknown => {
                    self.stats.skipped_blocks += 1;
                    Step::Skip
                }
            }
        };
        self.stats.blocks += 1;
        if !matches!(step, Step::Event { .. }) {
            self.input.consume(len);
            self.block_index += 1;
        }
        Ok(step)
    }

    fn add_thread(&mut self, t: ThreadRecord) {
        match self.thread_index.get(&t.tid) {
            Some(&i) => self.tables.threads[i] = t,
            None => {
                self.thread_index.insert(t.tid, self.tables.threads.len());
                self.tables.threads.push(t);
            }
        }
    }

    /// The common case, recognised without the general block machinery: a
    /// little-endian v2 event block (with or without flags) already in the
    /// window, with a matching trailer and a known event type. Anything else
    /// takes the general path, which reports what is wrong.
    #[inline]
    fn fast_frame(&self) -> Option<Frame> {
        use crate::block::{EVF_BLOCK_TYPE_V2, EV_BLOCK_TYPE_V2};
        if self.section.big_endian {
            return None;
        }
        let d = self.input.data();
        if d.len() < 8 {
            return None;
        }
        let ty = u32::from_le_bytes([d[0], d[1], d[2], d[3]]);
        let len = u32::from_le_bytes([d[4], d[5], d[6], d[7]]) as usize;
        let ev_at = match ty {
            EV_BLOCK_TYPE_V2 => 10,
            EVF_BLOCK_TYPE_V2 => 14,
            _ => return None,
        };
        if len > d.len()
            || len < ev_at + 26 + 4
            || len > MAX_EVENT_BLOCK_LEN as usize + BLOCK_OVERHEAD
        {
            return None;
        }
        let trailer = u32::from_le_bytes([d[len - 4], d[len - 3], d[len - 2], d[len - 1]]);
        if trailer as usize != len {
            return None;
        }
        let ev_type = u16::from_le_bytes([d[ev_at + 20], d[ev_at + 21]]);
        if ev_type as usize >= EVENT_MAX {
            return None;
        }
        Some(Frame {
            start: ev_at,
            end: len - 4,
            cpu: u16::from_le_bytes([d[8], d[9]]),
            flags: if ev_at == 14 {
                u32::from_le_bytes([d[10], d[11], d[12], d[13]])
            } else {
                0
            },
            converted: false,
            block_type: ty,
            block_offset: self.input.offset(),
            block_len: len,
        })
    }

    /// The next event, or `None` at the end of the file.
    pub fn next_event(&mut self) -> Result<Option<SourcedEvent<'_>>, ScapError> {
        if self.pending > 0 {
            self.input.consume(self.pending);
            self.pending = 0;
            self.block_index += 1;
        }
        if self.done {
            return Ok(None);
        }
        let frame = match self.fast_frame() {
            Some(f) => {
                self.stats.blocks += 1;
                f
            }
            None => match self.slow_frame()? {
                Some(f) => f,
                None => {
                    self.done = true;
                    return Ok(None);
                }
            },
        };
        self.pending = frame.block_len;
        self.num += 1;
        self.stats.events += 1;
        self.stats.converted += frame.converted as u64;
        // The one place an event is parsed: every path returns from here.
        let bytes: &[u8] = if frame.converted {
            &self.scratch
        } else {
            &self.input.data()[frame.start..frame.end]
        };
        match RawEvent::parse(bytes) {
            Ok((event, _)) => Ok(Some(SourcedEvent {
                num: self.num,
                cpu: frame.cpu,
                flags: frame.flags,
                event,
            })),
            Err(e) => Err(ScapError {
                path: self.path.clone(),
                compressed: self.compressed,
                block_index: Some(self.block_index),
                block_type: Some(frame.block_type),
                offset: frame.block_offset + frame.start as u64,
                kind: ErrorKind::Malformed(format!("bad event: {e}")),
            }),
        }
    }

    /// Walks blocks until the next event block; `None` at a clean end.
    fn slow_frame(&mut self) -> Result<Option<Frame>, ScapError> {
        loop {
            let Some(head) = self.peek_head()? else {
                return Ok(None);
            };
            if let Step::Event {
                at,
                cpu,
                flags,
                converted,
            } = self.process_block(&head)?
            {
                return Ok(Some(Frame {
                    start: at,
                    end: head.len as usize - 4,
                    cpu,
                    flags,
                    converted,
                    block_type: head.ty,
                    block_offset: head.offset,
                    block_len: head.len as usize,
                }));
            }
        }
    }
}

/// Where the next event lies: in the window (`start..end` of the current
/// block) or, for converted events, in the scratch buffer.
struct Frame {
    start: usize,
    end: usize,
    cpu: u16,
    flags: u32,
    converted: bool,
    block_type: u32,
    block_offset: u64,
    block_len: usize,
}

impl EventSource for ScapReader {
    type Error = ScapError;

    fn tables(&self) -> &Tables {
        &self.tables
    }

    fn next(&mut self) -> Result<Next<'_>, ScapError> {
        Ok(match self.next_event()? {
            Some(ev) => Next::Event(ev),
            None => Next::End,
        })
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn io_error(path: &Path, compressed: bool, offset: u64, e: io::Error) -> ScapError {
    ScapError {
        path: path.to_path_buf(),
        compressed,
        block_index: None,
        block_type: None,
        offset,
        kind: ErrorKind::Io(e),
    }
}
