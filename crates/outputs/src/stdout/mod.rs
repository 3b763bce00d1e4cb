//! `stdout_output`: one line per alert on standard output.

use std::io::Write;
use std::sync::Arc;

use crate::delivery::{Ctx, Envelope, Sink};

/// `stdout_output` in falco.yaml.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StdoutConfig {
    pub enabled: bool,
}

impl Default for StdoutConfig {
    fn default() -> StdoutConfig {
        StdoutConfig { enabled: true }
    }
}

/// Writes whole batches in one call; also used for any `Write` in tests.
pub(crate) struct WriterSink {
    out: Box<dyn Write + Send>,
    buf: Vec<u8>,
}

impl WriterSink {
    pub fn new(out: Box<dyn Write + Send>) -> WriterSink {
        WriterSink {
            out,
            buf: Vec::with_capacity(64 * 1024),
        }
    }
}

/// Appends every line of the batch, newline-terminated, to `buf`.
pub(crate) fn fill_batch(buf: &mut Vec<u8>, batch: &[Arc<Envelope>], ctx: &Ctx) {
    buf.clear();
    for env in batch {
        buf.extend_from_slice(env.line(ctx.format).as_bytes());
        buf.push(b'\n');
    }
}

impl Sink for WriterSink {
    fn deliver(&mut self, batch: &[Arc<Envelope>], ctx: &Ctx) {
        fill_batch(&mut self.buf, batch, ctx);
        match self.out.write_all(&self.buf) {
            Ok(()) => batch.iter().for_each(|e| ctx.stats.record_delivered(e)),
            Err(e) => {
                ctx.stats.failed.add(batch.len() as u64);
                ctx.error(&format!("write failed: {e}"));
            }
        }
    }

    fn flush(&mut self, ctx: &Ctx) {
        if let Err(e) = self.out.flush() {
            ctx.error(&format!("flush failed: {e}"));
        }
    }
}
