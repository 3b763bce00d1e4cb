//! Falco's rule-triggered captures (falco.yaml `capture:`): when a rule
//! asks for it (`capture: true`, or any rule in `all_rules` mode), the
//! events from the matching one on are written to a compressed scap file
//! named `<path_prefix>_<ts>_<evt.num>.scap` (both zero-padded to 20
//! digits), which opens with the thread and fd tables as they are then.
//!
//! A capture lasts until an event reaches its deadline: the latest of
//! `ts + capture_duration` (or `default_duration`) over every rule that
//! matched meanwhile, capture rule or not, as Falco extends it. It stops
//! sooner when its file reaches `max_file_size_mb`, which Falco reports
//! as an internal alert.

use std::path::PathBuf;
use std::sync::Arc;

use peregrine_alert::{FieldValue, InternalAlert, Priority};
use peregrine_engine::Matched;
use peregrine_event::{SourcedEvent, Tables};
use peregrine_scap::{FileOut, ScapWriter};
use peregrine_state::State;

use crate::logger;

pub const SIZE_LIMIT_RULE: &str = "Falco internal: capture size limit reached";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureSettings {
    pub path_prefix: String,
    /// `mode: all_rules`: every match starts a capture.
    pub all_rules: bool,
    pub default_duration_ms: u64,
    /// 0 for no limit.
    pub max_file_size_mb: u64,
}

struct Open {
    writer: ScapWriter<FileOut>,
    path: PathBuf,
}

pub struct RuleCapture {
    settings: CaptureSettings,
    /// Machine, users and interfaces for each file's header.
    base: Tables,
    open: Option<Open>,
    deadline_ns: u64,
}

impl RuleCapture {
    pub fn new(settings: CaptureSettings, source_tables: &Tables) -> RuleCapture {
        let base = source_tables.without_threads();
        RuleCapture {
            settings,
            base,
            open: None,
            deadline_ns: 0,
        }
    }

    /// Falco's name for a capture starting at event `num` at `ts`.
    pub fn file_name(prefix: &str, ts: u64, num: u64) -> String {
        format!("{prefix}_{ts:020}_{num:020}.scap")
    }

    /// After the pipeline handled `ev` (`matched` says which rules fired,
    /// `state` is as the event left it): starts, feeds or ends a capture.
    /// Returns the internal alert of a capture stopped by its size limit.
    pub fn on_event(
        &mut self,
        ev: &SourcedEvent<'_>,
        matched: Matched,
        state: &State,
        hostname: &Arc<str>,
    ) -> Option<InternalAlert> {
        let ts = ev.event.ts();
        if matched.rules > 0 {
            let mut longest = u64::from(matched.longest_capture_ms);
            if matched.default_capture {
                longest = longest.max(self.settings.default_duration_ms);
            }
            self.deadline_ns = self
                .deadline_ns
                .max(ts.saturating_add(longest.saturating_mul(1_000_000)));
            let wanted = self.settings.all_rules || matched.capture;
            if wanted && self.open.is_none() {
                self.start(ts, ev.num, state);
            }
        }
        let open = self.open.as_mut()?;
        if let Err(e) = open.writer.write_event(ev) {
            logger::log(
                logger::Level::Error,
                &format!("capture {}: {e}", open.path.display()),
            );
            self.finish();
            return None;
        }
        if ts >= self.deadline_ns {
            self.finish();
            return None;
        }
        let limit = self.settings.max_file_size_mb.saturating_mul(1024 * 1024);
        let written = open.writer.file_bytes();
        if limit == 0 || written < limit {
            return None;
        }
        self.finish();
        let mb = self.settings.max_file_size_mb;
        Some(InternalAlert {
            time_ns: crate::wall_ns(),
            rule: SIZE_LIMIT_RULE.into(),
            priority: Priority::Informational,
            output: format!("{SIZE_LIMIT_RULE}. Configured limit: {mb} MB."),
            output_fields: vec![
                ("max_file_size_mb".into(), FieldValue::U64(mb)),
                ("written_bytes".into(), FieldValue::U64(written)),
            ],
            hostname: hostname.clone(),
        })
    }

    fn start(&mut self, ts: u64, num: u64, state: &State) {
        let path = PathBuf::from(Self::file_name(&self.settings.path_prefix, ts, num));
        let tables = state.snapshot_tables(&self.base);
        match ScapWriter::create_with(&path, &tables, true) {
            Ok(writer) => self.open = Some(Open { writer, path }),
            Err(e) => logger::log(
                logger::Level::Error,
                &format!("cannot start capture {}: {e}", path.display()),
            ),
        }
    }

    /// Ends the capture in progress, if any (also at shutdown).
    pub fn finish(&mut self) {
        self.deadline_ns = 0;
        let Some(open) = self.open.take() else {
            return;
        };
        if let Err(e) = open.writer.close() {
            logger::log(
                logger::Level::Error,
                &format!("capture {}: {e}", open.path.display()),
            );
        }
    }

    /// Falco's startup line.
    pub fn announce(&self) {
        let mode = if self.settings.all_rules {
            "'all_rules'"
        } else {
            "'rules'"
        };
        logger::info(&format!(
            "Capture is enabled in mode {mode}. Capturing events to {}",
            self.settings.path_prefix
        ));
    }
}
