//! `file_output`: alerts appended to a file. Without `keep_alive` the file
//! is opened and closed around each batch (Falco: around each alert), so
//! log rotation needs no signal; with it, the file stays open.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::Arc;

use crate::delivery::{Ctx, Envelope, Sink};
use crate::stdout::fill_batch;
use crate::OutputsError;

/// `file_output` in falco.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileConfig {
    pub enabled: bool,
    pub keep_alive: bool,
    pub filename: String,
}

pub(crate) struct FileSink {
    cfg: FileConfig,
    file: Option<File>,
    buf: Vec<u8>,
    reopened: u64,
}

fn open(path: &str) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl FileSink {
    /// Opens the file once now, so a bad path is a startup error.
    pub fn start(cfg: &FileConfig) -> Result<FileSink, OutputsError> {
        if cfg.filename.is_empty() {
            return Err(OutputsError::Config(
                "file output enabled but no filename in configuration block".into(),
            ));
        }
        let file = open(&cfg.filename).map_err(|e| {
            OutputsError::Open(format!("failed to open output file {}: {e}", cfg.filename))
        })?;
        Ok(FileSink {
            cfg: cfg.clone(),
            file: cfg.keep_alive.then_some(file),
            buf: Vec::with_capacity(64 * 1024),
            reopened: 0,
        })
    }
}

impl Sink for FileSink {
    fn deliver(&mut self, batch: &[Arc<Envelope>], ctx: &Ctx) {
        fill_batch(&mut self.buf, batch, ctx);
        if ctx.reopen_requested(&mut self.reopened) {
            self.file = None;
        }
        if self.file.is_none() {
            match open(&self.cfg.filename) {
                Ok(f) => self.file = Some(f),
                Err(e) => {
                    ctx.stats.failed.add(batch.len() as u64);
                    ctx.error(&format!("cannot open {}: {e}", self.cfg.filename));
                    return;
                }
            }
        }
        let Some(file) = self.file.as_mut() else {
            return;
        };
        match file.write_all(&self.buf) {
            Ok(()) => batch.iter().for_each(|e| ctx.stats.record_delivered(e)),
            Err(e) => {
                ctx.stats.failed.add(batch.len() as u64);
                ctx.error(&format!("write to {} failed: {e}", self.cfg.filename));
                self.file = None;
            }
        }
        if !self.cfg.keep_alive {
            self.file = None;
        }
    }
}
