//! `user.*`, `group.*`, `fs.path.*` and `fdlist.*`.

use peregrine_event::param::Value;

use super::{Ctx, FArg, Fid};
use crate::value::Out;

pub(super) fn extract(fid: Fid, _arg: &FArg, ctx: &Ctx<'_>, out: &mut Out<'_>) -> bool {
    let state = ctx.state;
    match fid {
        Fid::UserUid
        | Fid::UserName
        | Fid::UserHomedir
        | Fid::UserShell
        | Fid::UserLoginuid
        | Fid::UserLoginname => {
            let Some(t) = ctx.thread else { return true };
            match fid {
                Fid::UserUid => out.u64(t.uid as u64),
                Fid::UserLoginuid => out.i64(t.loginuid as i32 as i64),
                Fid::UserLoginname => {
                    if t.loginuid != u32::MAX {
                        if let Some(u) = state.users().user("", t.loginuid) {
                            out.str(u.name.as_bytes())
                        }
                    }
                }
                _ => {
                    // A container's own /etc/passwd first, then the host's.
                    let from_container = t
                        .container
                        .as_ref()
                        .and_then(|c| ctx.containers.user(c, t.pid.max(0) as u32, t.uid));
                    if let Some(u) = from_container {
                        match fid {
                            Fid::UserName => out.str(u.name.as_bytes()),
                            Fid::UserHomedir => out.str(u.homedir.as_bytes()),
                            _ => out.str(u.shell.as_bytes()),
                        }
                    } else if let Some(u) = state.user(t) {
                        match fid {
                            Fid::UserName => out.str(u.name.as_bytes()),
                            Fid::UserHomedir => out.str(u.homedir.as_bytes()),
                            _ => out.str(u.shell.as_bytes()),
                        }
                    }
                }
            }
        }
        Fid::GroupGid | Fid::GroupName => {
            let Some(t) = ctx.thread else { return true };
            if fid == Fid::GroupGid {
                out.u64(t.gid as u64)
            } else if let Some(g) = t
                .container
                .as_ref()
                .and_then(|c| ctx.containers.group(c, t.pid.max(0) as u32, t.gid))
            {
                out.str(g.name.as_bytes())
            } else if let Some(g) = state.group(t) {
                out.str(g.name.as_bytes())
            }
        }
        Fid::FsPathName
        | Fid::FsPathNameraw
        | Fid::FsPathSource
        | Fid::FsPathSourceraw
        | Fid::FsPathTarget
        | Fid::FsPathTargetraw => fs_path(fid, ctx, out),
        Fid::FdlistNums
        | Fid::FdlistNames
        | Fid::FdlistCips
        | Fid::FdlistSips
        | Fid::FdlistCports
        | Fid::FdlistSports => fdlist(fid, ctx, out),
        _ => return false,
    }
    true
}

/// Param names holding the path an event acts on, and the source and target
/// of two-path events, per syscall (libsinsp's `fs.path.*`).
fn fs_params(name: &str) -> Option<(&'static [&'static str], Option<&'static str>)> {
    // (path-or-source candidates, target)
    Some(match name {
        "mkdir" | "mkdirat" | "rmdir" | "unlink" | "unlinkat" => {
            (&["path", "name", "pathname"], None)
        }
        "open" | "openat" | "openat2" | "creat" | "chmod" | "fchmodat" | "chown" | "lchown"
        | "fchownat" | "truncate" | "chdir" | "chroot" | "execve" | "execveat" => {
            (&["name", "path", "pathname", "filename", "filepath"], None)
        }
        "rename" | "renameat" | "renameat2" | "link" | "linkat" => (&["oldpath"], Some("newpath")),
        "symlink" | "symlinkat" => (&["target"], Some("linkpath")),
        "mount" => (&["dev"], Some("dir")),
        _ => return None,
    })
}

fn fs_path(fid: Fid, ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let ev = ctx.ev;
    let Some(info) = ev.info() else { return };
    let Some((srcs, target)) = fs_params(info.name) else {
        return;
    };
    let want_target = matches!(fid, Fid::FsPathTarget | Fid::FsPathTargetraw);
    let want_source = matches!(fid, Fid::FsPathSource | Fid::FsPathSourceraw);
    let raw = matches!(
        fid,
        Fid::FsPathNameraw | Fid::FsPathSourceraw | Fid::FsPathTargetraw
    );
    let pname: Option<&str> = if want_target {
        target
    } else if want_source {
        target.and(srcs.iter().copied().find(|n| ev.param_by_name(n).is_some()))
    } else if target.is_none() {
        srcs.iter().copied().find(|n| ev.param_by_name(n).is_some())
    } else {
        None
    };
    let Some(p) = pname.and_then(|n| ev.param_by_name(n)) else {
        return;
    };
    let path = p.as_bytes_str();
    if path.is_empty() {
        return;
    }
    if raw || path.first() == Some(&b'/') {
        if raw {
            out.str(path);
        } else {
            let mut text = std::mem::take(&mut out.arena.text);
            text.clear();
            peregrine_event::format::concatenate_paths(
                &mut text,
                "/",
                String::from_utf8_lossy(path).trim_start_matches('/'),
            );
            out.str(text.as_bytes());
            out.arena.text = text;
        }
        return;
    }
    let cwd = ctx.thread.and_then(|t| ctx.state.cwd(t)).unwrap_or("");
    let mut text = std::mem::take(&mut out.arena.text);
    text.clear();
    peregrine_event::format::concatenate_paths(&mut text, cwd, &String::from_utf8_lossy(path));
    out.str(text.as_bytes());
    out.arena.text = text;
}

/// `fdlist.*` read the `fds` param of poll/ppoll events.
fn fdlist(fid: Fid, ctx: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(p) = ctx.ev.param_by_name("fds") else {
        return;
    };
    let Value::FdList(list) = p.value() else {
        return;
    };
    let t = ctx.thread;
    let off = out.begin_str();
    let mut first = true;
    for (fd, _flags) in list.iter() {
        let f = t.and_then(|t| ctx.state.fd(t, fd));
        let mut piece = std::mem::take(&mut out.arena.text);
        piece.clear();
        use std::fmt::Write;
        match fid {
            Fid::FdlistNums => {
                let _ = write!(piece, "{fd}");
            }
            Fid::FdlistNames => {
                if let Some(f) = f {
                    piece.push_str(&f.name)
                }
            }
            _ => {
                let Some(a) = f.and_then(|f| f.addrs) else {
                    out.arena.text = piece;
                    continue;
                };
                use peregrine_state::SockAddrs as S;
                match (fid, a) {
                    (Fid::FdlistCips, S::V4 { cip, .. }) => {
                        let _ = peregrine_event::net::write_ipv4(&mut piece, cip);
                    }
                    (Fid::FdlistSips, S::V4 { sip, .. }) => {
                        let _ = peregrine_event::net::write_ipv4(&mut piece, sip);
                    }
                    (Fid::FdlistCports, S::V4 { cport, .. } | S::V6 { cport, .. }) => {
                        let _ = write!(piece, "{cport}");
                    }
                    (Fid::FdlistSports, S::V4 { sport, .. } | S::V6 { sport, .. }) => {
                        let _ = write!(piece, "{sport}");
                    }
                    _ => {}
                }
            }
        }
        if !piece.is_empty() {
            if !first {
                out.push_bytes(b",");
            }
            out.push_bytes(piece.as_bytes());
            first = false;
        }
        out.arena.text = piece;
    }
    if !first {
        out.end_str(off);
    }
}

/// Decodes base64 from `bytes[off..off+len]`, appending the result to
/// `bytes`. Returns false (appending nothing) on invalid input.
pub(crate) fn b64_decode_into(off: usize, len: usize, bytes: &mut Vec<u8>) -> bool {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    }
    let start = bytes.len();
    let mut acc = 0u32;
    let mut nbits = 0;
    for i in off..off + len {
        let c = bytes[i];
        if c == b'=' {
            break;
        }
        let Some(v) = val(c) else {
            bytes.truncate(start);
            return false;
        };
        acc = (acc << 6) | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            bytes.push((acc >> nbits) as u8);
        }
    }
    true
}
