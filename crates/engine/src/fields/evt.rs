//! `evt.*` and `syscall.type`.

use std::fmt::Write as _;

use peregrine_event::fields::{result_value, ArgSelector, EventField};
use peregrine_event::format::render_raw;
use peregrine_event::param::Param;
use peregrine_event::table::{category, eflags, Direction};
use peregrine_event::time::{civil, local_offset_secs, write_time_of_day};
use peregrine_event::SourcedEvent;

use super::{Ctx, FArg, Fid};
use crate::value::Out;

const PPM_O_ACCMODE_READ: u32 = 1;
const PPM_O_ACCMODE_WRITE: u32 = 2;
const PPM_O_CREAT: u32 = 1 << 2;
const PPM_O_TMPFILE: u32 = 1 << 13;

fn param_for<'a>(ctx: &Ctx<'a>, arg: &FArg) -> Option<Param<'a>> {
    match arg {
        FArg::Name(n) => ctx.ev.param_by_name(n),
        FArg::Index(i) => ctx.ev.typed_param(usize::try_from(*i).ok()?),
        FArg::None => None,
    }
}

fn is_open(ctx: &Ctx<'_>) -> bool {
    matches!(
        ctx.ev.info().map(|i| i.name),
        Some("open" | "openat" | "openat2" | "creat" | "open_by_handle_at")
    )
}

fn open_flags(ctx: &Ctx<'_>) -> Option<u32> {
    if !is_open(ctx) {
        return None;
    }
    if ctx.ev.info().is_some_and(|i| i.name == "creat") {
        return Some(PPM_O_ACCMODE_WRITE | PPM_O_CREAT);
    }
    ctx.ev
        .param_by_name("flags")
        .and_then(|p| p.as_u64())
        .map(|f| f as u32)
}

fn write_datetime(out: &mut String, ts: u64, with_ns: bool) {
    let secs = (ts / 1_000_000_000) as i64;
    let local = secs + local_offset_secs(secs);
    let (y, mo, d, h, mi, s) = civil(local);
    let _ = write!(out, "{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}");
    if with_ns {
        let _ = write!(out, ".{:09}", ts % 1_000_000_000);
    }
}

fn io_category(ctx: &Ctx<'_>) -> u32 {
    ctx.ev.info().map_or(0, |i| i.syscall_category())
}

pub(super) fn extract(fid: Fid, arg: &FArg, ctx: &Ctx<'_>, out: &mut Out<'_>) -> bool {
    let ev = ctx.ev;
    match fid {
        Fid::EvtNum => out.u64(ctx.num),
        Fid::EvtTime => event_field(ctx, &EventField::Time, out),
        Fid::EvtOutputtime => event_field(ctx, &EventField::OutputTime, out),
        Fid::EvtTimeS => {
            out.arena.text.clear();
            write_time_of_day(&mut out.arena.text, ev.ts());
            out.arena.text.truncate(8);
            out.text_value();
        }
        Fid::EvtTimeIso => {
            let ts = ev.ts();
            let (y, mo, d, h, mi, s) = civil((ts / 1_000_000_000) as i64);
            out.arena.text.clear();
            let _ = write!(
                out.arena.text,
                "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:09}Z",
                ts % 1_000_000_000
            );
            out.text_value();
        }
        Fid::EvtDatetime | Fid::EvtDatetimeS => {
            out.arena.text.clear();
            write_datetime(&mut out.arena.text, ev.ts(), fid == Fid::EvtDatetime);
            out.text_value();
        }
        Fid::EvtRawtime | Fid::EvtRawtimeNs => out.u64(ev.ts()),
        Fid::EvtRawtimeS => out.u64(ev.ts() / 1_000_000_000),
        Fid::EvtReltime | Fid::EvtReltimeNs | Fid::EvtReltimeS => out.u64(0),
        Fid::EvtLatency | Fid::EvtLatencyNs | Fid::EvtLatencyS | Fid::EvtWaitLatency => {
            let lat = if ctx.enter_ts > 0 {
                ev.ts().saturating_sub(ctx.enter_ts)
            } else {
                0
            };
            out.u64(if fid == Fid::EvtLatencyS {
                lat / 1_000_000_000
            } else {
                lat
            });
        }
        Fid::EvtLatencyHuman => {
            let lat = ev.ts().saturating_sub(ctx.enter_ts.max(ev.ts()));
            out.arena.text.clear();
            let _ = write!(out.arena.text, "{lat}ns");
            out.text_value();
        }
        Fid::EvtDeltatime | Fid::EvtDeltatimeNs | Fid::EvtDeltatimeS => out.u64(0),
        Fid::EvtDir => out.str(ev.direction().symbol().as_bytes()),
        Fid::EvtType | Fid::SyscallType => {
            if fid == Fid::SyscallType
                && ev
                    .info()
                    .is_none_or(|i| i.category & category::EC_SYSCALL == 0)
            {
                return true;
            }
            let name = ev.type_name();
            out.str(if name == "unknown" {
                b"<unknown>"
            } else {
                name.as_bytes()
            })
        }
        Fid::EvtTypeIs => {
            let want = match arg {
                FArg::Index(i) => *i as u64,
                _ => u64::MAX,
            };
            out.u64((ev.event_type() as u64 == want) as u64)
        }
        Fid::EvtCategory => {
            let name = match io_category(ctx) {
                category::EC_UNKNOWN => "unknown",
                category::EC_OTHER => "other",
                category::EC_FILE => "file",
                category::EC_NET => "net",
                category::EC_IPC => "IPC",
                category::EC_MEMORY => "memory",
                category::EC_PROCESS => "process",
                category::EC_SLEEP => "sleep",
                category::EC_SYSTEM => "system",
                category::EC_SIGNAL => "signal",
                category::EC_USER => "user",
                category::EC_TIME => "time",
                category::EC_PROCESSING => "processing",
                category::EC_IO_READ | category::EC_IO_WRITE | category::EC_IO_OTHER => "I/O",
                _ => "unknown",
            };
            out.str(name.as_bytes())
        }
        Fid::EvtCpu => out.i64(ctx.cpu as i64),
        Fid::EvtArgs | Fid::EvtInfo => {
            let f = if fid == Fid::EvtArgs {
                EventField::Args
            } else {
                EventField::Info
            };
            event_field(ctx, &f, out);
        }
        Fid::EvtArg => {
            let sel = match arg {
                FArg::Name(n) => ArgSelector::Name(n.to_string()),
                FArg::Index(i) => match usize::try_from(*i) {
                    Ok(i) => ArgSelector::Index(i),
                    Err(_) => return true,
                },
                FArg::None => return true,
            };
            event_field(ctx, &EventField::Arg(sel), out);
        }
        Fid::EvtRawarg => {
            let Some(p) = param_for(ctx, arg) else {
                return true;
            };
            let p = p.resolve_dyn();
            if p.bytes.is_empty() {
                return true;
            }
            use peregrine_event::table::ParamType as T;
            match p.ty() {
                T::Charbuf | T::Fspath | T::Fsrelpath => out.str(p.as_bytes_str()),
                T::Bytebuf | T::Charbufarray | T::CharbufPairArray => out.str(p.bytes),
                T::Int8
                | T::Int16
                | T::Int32
                | T::Int64
                | T::Errno
                | T::Fd
                | T::Pid
                | T::Fd32
                | T::Pid32 => match p.as_i64() {
                    Some(v) => out.i64(v),
                    None => return true,
                },
                _ => match p.as_u64() {
                    Some(v) => out.i64(v as i64),
                    None => {
                        out.arena.text.clear();
                        render_raw(ev, p, &mut out.arena.text);
                        out.text_value();
                    }
                },
            }
        }
        Fid::EvtBuffer => {
            let p = ev.param_by_name("data").or_else(|| ev.param_by_name("buf"));
            if let Some(p) = p {
                out.str(p.bytes);
            }
        }
        Fid::EvtBuflen => {
            if ev.info().is_some_and(|i| {
                i.flags & (eflags::EF_READS_FROM_FD | eflags::EF_WRITES_TO_FD) != 0
            }) && ev.direction() == Direction::Exit
            {
                if let Some(v) = result_value(ev).filter(|v| *v >= 0) {
                    out.u64(v as u64);
                }
            }
        }
        Fid::EvtRes => event_field(ctx, &EventField::Res, out),
        Fid::EvtRawres => {
            if ev.direction() == Direction::Exit {
                if let Some(v) = result_value(ev) {
                    out.i64(v);
                }
            }
        }
        Fid::EvtFailed => {
            let failed =
                ev.direction() == Direction::Exit && result_value(ev).is_some_and(|v| v < 0);
            out.bool(failed)
        }
        Fid::EvtIsIo => out.bool(matches!(
            io_category(ctx),
            category::EC_IO_READ | category::EC_IO_WRITE
        )),
        Fid::EvtIsIoRead => out.bool(io_category(ctx) == category::EC_IO_READ),
        Fid::EvtIsIoWrite => out.bool(io_category(ctx) == category::EC_IO_WRITE),
        Fid::EvtIoDir => match io_category(ctx) {
            category::EC_IO_READ => out.str(b"r"),
            category::EC_IO_WRITE => out.str(b"w"),
            _ => {}
        },
        Fid::EvtIsWait => out.bool(ev.info().is_some_and(|i| i.flags & eflags::EF_WAITS != 0)),
        Fid::EvtIsSyslog => {
            let syslog = ctx
                .thread
                .and_then(|t| ev.param(0).map(|_| t))
                .is_some_and(|_| fd_name(ctx).is_some_and(|n| n.contains("/dev/log")));
            out.bool(syslog)
        }
        Fid::EvtCount => out.u64(1),
        Fid::EvtCountExit => out.u64((ev.direction() == Direction::Exit) as u64),
        Fid::EvtCountError
        | Fid::EvtCountErrorFile
        | Fid::EvtCountErrorNet
        | Fid::EvtCountErrorMemory
        | Fid::EvtCountErrorOther => {
            let failed =
                ev.direction() == Direction::Exit && result_value(ev).is_some_and(|v| v < 0);
            let cat = io_category(ctx);
            let hit = failed
                && match fid {
                    Fid::EvtCountErrorFile => cat == category::EC_FILE,
                    Fid::EvtCountErrorNet => cat == category::EC_NET,
                    Fid::EvtCountErrorMemory => cat == category::EC_MEMORY,
                    Fid::EvtCountErrorOther => !matches!(
                        cat,
                        category::EC_FILE | category::EC_NET | category::EC_MEMORY
                    ),
                    _ => true,
                };
            out.u64(hit as u64)
        }
        Fid::EvtAbspath => abspath(ctx, arg, out),
        Fid::EvtIsOpenRead => {
            if let Some(f) = open_flags(ctx) {
                out.bool(f & PPM_O_ACCMODE_READ != 0)
            } else {
                out.bool(false)
            }
        }
        Fid::EvtIsOpenWrite => {
            if let Some(f) = open_flags(ctx) {
                out.bool(f & PPM_O_ACCMODE_WRITE != 0)
            } else {
                out.bool(false)
            }
        }
        Fid::EvtIsOpenExec => {
            let exec = is_open(ctx)
                && ctx
                    .ev
                    .param_by_name("mode")
                    .and_then(|p| p.as_u64())
                    .is_some_and(|m| m & 0o111 != 0)
                && open_flags(ctx).is_some_and(|f| f & (PPM_O_CREAT | PPM_O_TMPFILE) != 0);
            out.bool(exec)
        }
        Fid::EvtIsOpenCreate => {
            out.bool(open_flags(ctx).is_some_and(|f| f & (PPM_O_CREAT | PPM_O_TMPFILE) != 0))
        }
        Fid::EvtSource => out.str(b"syscall"),
        Fid::EvtIsAsync => out.bool(
            ev.info()
                .is_some_and(|i| i.category & category::EC_METAEVENT != 0),
        ),
        Fid::EvtAsynctype => {
            if ev
                .info()
                .is_some_and(|i| i.category & category::EC_METAEVENT != 0)
            {
                out.str(ev.type_name().as_bytes());
            }
        }
        Fid::EvtHostname => out.str(ctx.hostname.as_bytes()),
        Fid::EvtPluginname | Fid::EvtPlugininfo => {}
        _ => return false,
    }
    true
}

/// Text fields the event crate renders (validated against sysdig there).
fn event_field(ctx: &Ctx<'_>, f: &EventField, out: &mut Out<'_>) {
    let sev = SourcedEvent {
        num: ctx.num,
        cpu: ctx.cpu,
        flags: 0,
        event: *ctx.ev,
    };
    let a = &mut *out.arena;
    a.text.clear();
    if f.write(&sev, ctx.state, &mut a.rendered, &mut a.text) {
        out.text_value();
    }
}

fn fd_name<'a>(ctx: &Ctx<'a>) -> Option<&'a str> {
    let t = ctx.thread?;
    let fd = super::fd::event_fd(ctx)?;
    ctx.state.fd(t, fd).map(|f| &*f.name)
}

/// `evt.abspath`: the absolute path of an event's path param, resolved
/// against its dirfd (`unlinkat`, `renameat`, …) or the cwd.
fn abspath(ctx: &Ctx<'_>, arg: &FArg, out: &mut Out<'_>) {
    let ev = ctx.ev;
    let Some(info) = ev.info() else { return };
    let (path_name, dirfd_name) = match (info.name, arg) {
        ("renameat" | "renameat2" | "linkat", FArg::Name(n)) if &**n == "src" => {
            ("oldpath", "olddirfd")
        }
        ("renameat" | "renameat2" | "linkat", FArg::Name(n)) if &**n == "dst" => {
            ("newpath", "newdirfd")
        }
        ("renameat" | "renameat2" | "linkat", _) => ("newpath", "newdirfd"),
        ("symlinkat", _) => ("linkpath", "linkdirfd"),
        ("unlinkat" | "mkdirat" | "openat" | "openat2" | "fchmodat" | "fchownat", _) => {
            ("name", "dirfd")
        }
        _ => return,
    };
    let path = ev
        .param_by_name(path_name)
        .or_else(|| ev.param_by_name("path"))
        .or_else(|| ev.param_by_name("pathname"));
    let Some(path) = path.map(|p| p.as_bytes_str()) else {
        return;
    };
    let path = String::from_utf8_lossy(path);
    let base: String = if path.starts_with('/') {
        "/".to_string()
    } else {
        let dirfd = ev.param_by_name(dirfd_name).and_then(|p| p.as_i64());
        let t = ctx.thread;
        match (dirfd, t) {
            (Some(d), Some(t)) if d != -100 => match ctx.state.fd(t, d) {
                Some(f) => format!("{}/", f.name),
                None => return,
            },
            (_, Some(t)) => ctx.state.cwd(t).unwrap_or("").to_string(),
            _ => return,
        }
    };
    out.arena.text.clear();
    peregrine_event::format::concatenate_paths(
        &mut out.arena.text,
        &base,
        path.trim_start_matches('/'),
    );
    out.text_value();
}
