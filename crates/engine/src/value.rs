//! Extracted field values and the per-event arena that holds them.
//!
//! Every field a rule or output uses gets a slot. A slot is filled at most
//! once per event (lazily, on first use) into a reusable arena: strings are
//! copied into one byte buffer, so nothing is allocated once the buffers
//! have grown to their working size.

/// Value types, as the comparison and output code see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValType {
    Str,
    Bytes,
    I64,
    U64,
    Bool,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A network (only as a comparison target: `fd.net`).
    Net,
    Port,
    RelTime,
    AbsTime,
    Double,
}

impl ValType {
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ValType::I64
                | ValType::U64
                | ValType::Port
                | ValType::RelTime
                | ValType::AbsTime
                | ValType::Double
        )
    }
}

/// One extracted value. Strings point into the arena's byte buffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum V {
    Str { off: u32, len: u32 },
    I64(i64),
    U64(u64),
    Bool(bool),
    Ip4([u8; 4]),
    Ip6([u8; 16]),
    F64(f64),
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    generation: u64,
    start: u32,
    end: u32,
}

/// Per-event storage of extracted values.
#[derive(Debug, Default)]
pub struct Arena {
    generation: u64,
    slots: Vec<Slot>,
    pub(crate) vals: Vec<V>,
    pub(crate) bytes: Vec<u8>,
    /// Scratch for fields rendered through the event crate's formatters.
    pub(crate) text: String,
    pub(crate) rendered: peregrine_event::format::Rendered,
}

impl Arena {
    pub fn new(nslots: usize) -> Arena {
        Arena {
            generation: 1,
            slots: vec![Slot::default(); nslots],
            vals: Vec::with_capacity(256),
            bytes: Vec::with_capacity(4096),
            text: String::with_capacity(256),
            rendered: Default::default(),
        }
    }

    /// Forgets the previous event's values (O(1)).
    #[inline]
    pub fn next_event(&mut self) {
        self.generation += 1;
        self.vals.clear();
        self.bytes.clear();
    }

    pub fn ensure_slots(&mut self, n: usize) {
        if self.slots.len() < n {
            self.slots.resize(n, Slot::default());
        }
    }

    /// The values of `slot` if already extracted for this event.
    #[inline]
    pub fn cached(&self, slot: usize) -> Option<(usize, usize)> {
        let s = self.slots.get(slot)?;
        (s.generation == self.generation).then_some((s.start as usize, s.end as usize))
    }

    #[inline]
    pub fn begin(&self) -> usize {
        self.vals.len()
    }

    #[inline]
    pub fn commit(&mut self, slot: usize, start: usize) -> (usize, usize) {
        let end = self.vals.len();
        if let Some(s) = self.slots.get_mut(slot) {
            *s = Slot {
                generation: self.generation,
                start: start as u32,
                end: end as u32,
            };
        }
        (start, end)
    }

    #[inline]
    pub fn str_of(&self, off: u32, len: u32) -> &[u8] {
        &self.bytes[off as usize..(off + len) as usize]
    }

    #[inline]
    pub fn val(&self, i: usize) -> V {
        self.vals[i]
    }

    /// Bytes of a value, for string-like comparisons.
    #[inline]
    pub fn bytes_of(&self, v: &V) -> &[u8] {
        match *v {
            V::Str { off, len } => self.str_of(off, len),
            _ => &[],
        }
    }
}

/// Where extractors write values.
pub struct Out<'a> {
    pub(crate) arena: &'a mut Arena,
}

impl Out<'_> {
    #[inline]
    pub fn str(&mut self, s: &[u8]) {
        let off = self.arena.bytes.len() as u32;
        self.arena.bytes.extend_from_slice(s);
        self.arena.vals.push(V::Str {
            off,
            len: s.len() as u32,
        });
    }

    /// Starts a string built in pieces; finish with [`Out::end_str`].
    #[inline]
    pub fn begin_str(&mut self) -> u32 {
        self.arena.bytes.len() as u32
    }

    #[inline]
    pub fn push_bytes(&mut self, s: &[u8]) {
        self.arena.bytes.extend_from_slice(s);
    }

    #[inline]
    pub fn end_str(&mut self, off: u32) {
        let len = self.arena.bytes.len() as u32 - off;
        self.arena.vals.push(V::Str { off, len });
    }

    #[inline]
    pub fn i64(&mut self, v: i64) {
        self.arena.vals.push(V::I64(v));
    }
    #[inline]
    pub fn u64(&mut self, v: u64) {
        self.arena.vals.push(V::U64(v));
    }
    #[inline]
    pub fn bool(&mut self, v: bool) {
        self.arena.vals.push(V::Bool(v));
    }
    #[inline]
    pub fn ip4(&mut self, v: [u8; 4]) {
        self.arena.vals.push(V::Ip4(v));
    }
    #[inline]
    pub fn ip6(&mut self, v: [u8; 16]) {
        self.arena.vals.push(V::Ip6(v));
    }
    #[inline]
    pub fn f64(&mut self, v: f64) {
        self.arena.vals.push(V::F64(v));
    }
}

impl Out<'_> {
    /// Pushes the scratch text as one string value.
    pub fn text_value(&mut self) {
        let off = self.arena.bytes.len() as u32;
        let Arena {
            bytes, text, vals, ..
        } = &mut *self.arena;
        bytes.extend_from_slice(text.as_bytes());
        vals.push(V::Str {
            off,
            len: text.len() as u32,
        });
    }
}

impl std::fmt::Write for Out<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.arena.bytes.extend_from_slice(s.as_bytes());
        Ok(())
    }
}
