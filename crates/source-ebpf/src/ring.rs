//! A BPF ring buffer read in place. The kernel maps the data area twice in a
//! row, so every record is contiguous; we hand out slices of the mapping and
//! advance the consumer position only when the caller is done with them.
//!
//! Layout (kernel ABI): page 0 holds `consumer_pos` (ours to write), page 1
//! `producer_pos`, then the data area (`size` bytes, mapped twice). Each record
//! has an 8-byte header `u32 len | u32 pg_off`, with `BUSY` (bit 31) while the
//! producer writes it and `DISCARD` (bit 30) when it gave up; records are
//! padded to 8 bytes.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

const BUSY: u32 = 1 << 31;
const DISCARD: u32 = 1 << 30;
const HDR: u64 = 8;

/// A record at the head of a ring.
#[derive(Debug, Clone, Copy)]
pub struct Record {
    /// Offset of the payload from the data area start (already masked).
    pub offset: usize,
    pub len: usize,
    /// Bytes to advance the consumer position by once the record is done.
    pub advance: u64,
}

pub struct Ring {
    consumer: NonNull<u8>,
    producer: NonNull<u8>,
    page: usize,
    size: usize,
    mask: u64,
    /// Our consumer position (published lazily).
    pos: u64,
    published: u64,
    /// Publish after this many bytes even while busy, so producers see room.
    publish_every: u64,
}

// The mappings are owned by this value and only read/written through it.
unsafe impl Send for Ring {}

impl Ring {
    /// Maps the ring buffer map behind `fd` whose data area is `size` bytes.
    pub fn map(fd: BorrowedFd<'_>, size: usize) -> io::Result<Ring> {
        let page = page_size();
        if size == 0 || !size.is_power_of_two() || !size.is_multiple_of(page) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("ring size {size} must be a power of two multiple of the page size"),
            ));
        }
        let raw = fd.as_raw_fd();
        // SAFETY: plain mmap of a ring buffer map fd; results are checked.
        let consumer = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                raw,
                0,
            )
        };
        if consumer == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: as above; the kernel requires the producer page and the
        // double-mapped data to be mapped read-only at offset `page`.
        let producer = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                page + 2 * size,
                libc::PROT_READ,
                libc::MAP_SHARED,
                raw,
                page as libc::off_t,
            )
        };
        if producer == libc::MAP_FAILED {
            let err = io::Error::last_os_error();
            // SAFETY: unmapping what we just mapped.
            unsafe { libc::munmap(consumer, page) };
            return Err(err);
        }
        let mut ring = Ring {
            consumer: NonNull::new(consumer as *mut u8).expect("mmap returned null"),
            producer: NonNull::new(producer as *mut u8).expect("mmap returned null"),
            page,
            size,
            mask: size as u64 - 1,
            pos: 0,
            published: 0,
            publish_every: (size as u64 / 16).max(256),
        };
        ring.pos = ring.consumer_pos().load(Ordering::Acquire);
        ring.published = ring.pos;
        Ok(ring)
    }

    fn consumer_pos(&self) -> &AtomicU64 {
        // SAFETY: page-aligned mapping of at least 8 bytes, shared with the
        // kernel, accessed atomically.
        unsafe { &*(self.consumer.as_ptr() as *const AtomicU64) }
    }

    fn producer_pos(&self) -> &AtomicU64 {
        // SAFETY: as for consumer_pos; the kernel writes it.
        unsafe { &*(self.producer.as_ptr() as *const AtomicU64) }
    }

    fn data(&self) -> *const u8 {
        // SAFETY: the data area starts one page into the producer mapping.
        unsafe { self.producer.as_ptr().add(self.page) }
    }

    /// Bytes of the data area (one copy).
    pub fn size(&self) -> usize {
        self.size
    }

    /// The next committed record, skipping discarded ones; `None` when the
    /// ring is empty or the next record is still being written.
    #[inline]
    pub fn peek(&mut self) -> Option<Record> {
        loop {
            let prod = self.producer_pos().load(Ordering::Acquire);
            if self.pos >= prod {
                return None;
            }
            let off = (self.pos & self.mask) as usize;
            // SAFETY: off < size and the header is 8-byte aligned inside the
            // mapping; the kernel writes it with release semantics.
            let hdr = unsafe { &*(self.data().add(off) as *const AtomicU32) };
            let len = hdr.load(Ordering::Acquire);
            if len & BUSY != 0 {
                return None;
            }
            let plen = (len & !(BUSY | DISCARD)) as u64;
            let advance = (plen + HDR + 7) & !7;
            if len & DISCARD != 0 || plen as usize > self.size {
                self.pos += advance.max(HDR);
                continue;
            }
            return Some(Record {
                offset: off + HDR as usize,
                len: plen as usize,
                advance,
            });
        }
    }

    /// The bytes of a record returned by [`Ring::peek`].
    #[inline]
    pub fn bytes(&self, r: &Record) -> &[u8] {
        // SAFETY: offset + len <= 2 * size thanks to the double mapping, and
        // the producer does not touch a committed record until we advance.
        unsafe { std::slice::from_raw_parts(self.data().add(r.offset), r.len) }
    }

    /// Marks a record consumed. The position is published to the kernel in
    /// batches; call [`Ring::publish`] when going idle.
    #[inline]
    pub fn consume(&mut self, r: &Record) {
        self.pos += r.advance;
        if self.pos - self.published >= self.publish_every {
            self.publish();
        }
    }

    /// Tells the kernel how far we have read.
    #[inline]
    pub fn publish(&mut self) {
        if self.published != self.pos {
            self.consumer_pos().store(self.pos, Ordering::Release);
            self.published = self.pos;
        }
    }

    /// Bytes written by the kernel and not yet consumed.
    pub fn pending(&self) -> u64 {
        self.producer_pos()
            .load(Ordering::Acquire)
            .saturating_sub(self.pos)
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: unmapping our own mappings with their original sizes.
        unsafe {
            libc::munmap(self.consumer.as_ptr() as *mut libc::c_void, self.page);
            libc::munmap(
                self.producer.as_ptr() as *mut libc::c_void,
                self.page + 2 * self.size,
            );
        }
    }
}

pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as usize
    } else {
        4096
    }
}
