//! `program_output`: alerts piped into `sh -c PROGRAM`. Without
//! `keep_alive` each alert gets its own run of the program (as Falco's
//! popen/pclose per alert, so `curl -d @-` style programs work); with it,
//! one long-lived process reads every line, and is restarted if it exits.

use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;

use crate::delivery::{Ctx, Envelope, Sink};
use crate::stdout::fill_batch;
use crate::OutputsError;

/// `program_output` in falco.yaml.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProgramConfig {
    pub enabled: bool,
    pub keep_alive: bool,
    pub program: String,
}

pub(crate) struct ProgramSink {
    cfg: ProgramConfig,
    child: Option<(Child, ChildStdin)>,
    buf: Vec<u8>,
    reopened: u64,
}

fn spawn(program: &str) -> std::io::Result<(Child, ChildStdin)> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(program)
        .stdin(Stdio::piped())
        .spawn()?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| std::io::Error::other("no stdin pipe"))?;
    Ok((child, stdin))
}

fn finish(child: Option<(Child, ChildStdin)>) {
    if let Some((mut c, stdin)) = child {
        drop(stdin);
        let _ = c.wait();
    }
}

impl ProgramSink {
    pub fn start(cfg: &ProgramConfig) -> Result<ProgramSink, OutputsError> {
        if cfg.program.is_empty() {
            return Err(OutputsError::Config(
                "program output enabled but no program in configuration block".into(),
            ));
        }
        let child = if cfg.keep_alive {
            Some(spawn(&cfg.program).map_err(|e| {
                OutputsError::Open(format!("cannot start program '{}': {e}", cfg.program))
            })?)
        } else {
            if !std::path::Path::new("/bin/sh").exists() {
                return Err(OutputsError::Open("program output needs /bin/sh".into()));
            }
            None
        };
        Ok(ProgramSink {
            cfg: cfg.clone(),
            child,
            buf: Vec::with_capacity(64 * 1024),
            reopened: 0,
        })
    }

    fn deliver_kept_alive(&mut self, batch: &[Arc<Envelope>], ctx: &Ctx) {
        fill_batch(&mut self.buf, batch, ctx);
        if ctx.reopen_requested(&mut self.reopened) {
            finish(self.child.take());
        }
        // One restart per batch if the program died (broken pipe).
        for attempt in 0..2 {
            if self.child.is_none() {
                match spawn(&self.cfg.program) {
                    Ok(c) => self.child = Some(c),
                    Err(e) => {
                        ctx.error(&format!("cannot start '{}': {e}", self.cfg.program));
                        break;
                    }
                }
            }
            let Some((_, stdin)) = self.child.as_mut() else {
                break;
            };
            match stdin.write_all(&self.buf).and_then(|_| stdin.flush()) {
                Ok(()) => {
                    batch.iter().for_each(|e| ctx.stats.record_delivered(e));
                    return;
                }
                Err(e) => {
                    finish(self.child.take());
                    if attempt == 1 {
                        ctx.error(&format!("write to '{}' failed: {e}", self.cfg.program));
                    } else {
                        ctx.stats.retries.inc();
                    }
                }
            }
        }
        ctx.stats.failed.add(batch.len() as u64);
    }
}

impl Sink for ProgramSink {
    fn deliver(&mut self, batch: &[Arc<Envelope>], ctx: &Ctx) {
        if self.cfg.keep_alive {
            return self.deliver_kept_alive(batch, ctx);
        }
        for env in batch {
            let line = env.line(ctx.format);
            let res = spawn(&self.cfg.program).and_then(|(mut child, mut stdin)| {
                let w = stdin
                    .write_all(line.as_bytes())
                    .and_then(|_| stdin.write_all(b"\n"));
                drop(stdin);
                child.wait()?;
                w
            });
            match res {
                Ok(()) => ctx.stats.record_delivered(env),
                Err(e) => {
                    ctx.stats.failed.inc();
                    ctx.error(&format!("program '{}': {e}", self.cfg.program));
                }
            }
        }
    }

    fn close(&mut self, _ctx: &Ctx) {
        finish(self.child.take());
    }
}
