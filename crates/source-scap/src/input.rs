//! A sliding window over the (possibly gzip-compressed) byte stream.
//!
//! Blocks are decoded in place inside the window, so events are never
//! copied out. The window grows only as far as the largest block needs and
//! only in step with bytes actually read, so a corrupted length cannot make
//! it allocate more than about twice what the file holds.

use std::io::{self, Read};

/// Largest routine window: big enough that refills are rare, small enough to
/// stay in cache. The window starts at `FIRST` and doubles while the stream
/// keeps coming, so small files stay cheap.
const CHUNK: usize = 1 << 20;
const FIRST: usize = 1 << 16;

pub(crate) struct Input {
    src: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// Valid data is `buf[pos..end]`.
    pos: usize,
    end: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    eof: bool,
}

impl Input {
    pub fn new(src: Box<dyn Read + Send>) -> Input {
        Input {
            src,
            buf: Vec::new(),
            pos: 0,
            end: 0,
            base: 0,
            eof: false,
        }
    }

    /// Stream offset of the first unconsumed byte.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    #[inline]
    pub fn data(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    #[inline]
    pub fn consume(&mut self, n: usize) {
        debug_assert!(self.pos + n <= self.end);
        self.pos = (self.pos + n).min(self.end);
    }

    /// Makes at least `need` bytes available if the stream has them. Returns
    /// how many are available (less than `need` only at end of stream).
    pub fn fill(&mut self, need: usize) -> io::Result<usize> {
        while self.end - self.pos < need && !self.eof {
            if self.pos > 0 && (self.buf.len() - self.end < CHUNK / 4 || self.pos == self.end) {
                // Slide the unconsumed tail to the front.
                self.buf.copy_within(self.pos..self.end, 0);
                self.base += self.pos as u64;
                self.end -= self.pos;
                self.pos = 0;
                // A stream that outgrew the window gets a bigger one, up to CHUNK.
                if self.buf.len() < CHUNK {
                    let n = (self.buf.len() * 2).clamp(FIRST, CHUNK);
                    self.buf.resize(n, 0);
                }
            }
            if self.buf.len() == self.end {
                // Grow only as far as data arrives: at most double each time.
                let routine = (self.buf.len() * 2).clamp(FIRST, CHUNK);
                let want = (self.pos + need).max(routine);
                let new_len = want.min(self.buf.len().saturating_mul(2).max(routine));
                self.buf.resize(new_len.max(self.end + 1), 0);
            }
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out a few bytes at a time.
    struct Trickle(Vec<u8>, usize);
    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(7).min(self.0.len() - self.1);
            out[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn window_fills_slides_and_ends() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| i as u8).collect();
        let mut inp = Input::new(Box::new(Trickle(data.clone(), 0)));
        let mut seen = 0usize;
        while inp.fill(100_000).unwrap() > 0 {
            let avail = inp.data().len().min(65_537);
            assert_eq!(inp.data()[0], data[seen]);
            assert_eq!(inp.offset(), seen as u64);
            inp.consume(avail);
            seen += avail;
        }
        assert_eq!(seen, data.len());
        // A huge request on a small stream allocates about what is there.
        let mut small = Input::new(Box::new(Trickle(vec![1; 10], 0)));
        assert_eq!(small.fill(1 << 30).unwrap(), 10);
        assert!(small.buf.len() <= 2 * CHUNK);
    }
}
