//! Users and groups inside containers, from the container's own
//! /etc/passwd and /etc/group read through /proc/PID/root.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One /etc/passwd entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserEntry {
    pub uid: u32,
    pub gid: u32,
    pub name: String,
    pub homedir: String,
    pub shell: String,
}

/// One /etc/group entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupEntry {
    pub gid: u32,
    pub name: String,
}

/// Passwd files larger than this are not read (a hostile container).
const MAX_FILE: u64 = 4 << 20;
/// A miss reloads the files at most this often (users added at run time).
pub(crate) const RELOAD_AFTER: Duration = Duration::from_secs(5);

/// A container's users and groups.
#[derive(Debug, Default)]
pub struct UserTable {
    pub users: HashMap<u32, Arc<UserEntry>>,
    pub groups: HashMap<u32, Arc<GroupEntry>>,
    pub(crate) loaded_at: Option<Instant>,
}

impl UserTable {
    /// Reads `<root>/etc/passwd` and `<root>/etc/group`; missing or
    /// unreadable files give empty tables.
    pub fn load(root: &Path) -> UserTable {
        let mut t = UserTable {
            loaded_at: Some(Instant::now()),
            ..Default::default()
        };
        if let Some(text) = read_small(&root.join("etc/passwd")) {
            for line in text.lines() {
                if let Some(u) = parse_passwd_line(line) {
                    t.users.entry(u.uid).or_insert_with(|| Arc::new(u));
                }
            }
        }
        if let Some(text) = read_small(&root.join("etc/group")) {
            for line in text.lines() {
                if let Some(g) = parse_group_line(line) {
                    t.groups.entry(g.gid).or_insert_with(|| Arc::new(g));
                }
            }
        }
        t
    }

    pub(crate) fn stale(&self) -> bool {
        self.loaded_at.is_none_or(|t| t.elapsed() >= RELOAD_AFTER)
    }
}

fn read_small(path: &Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(path).ok()?;
    let mut s = String::new();
    f.take(MAX_FILE).read_to_string(&mut s).ok()?;
    Some(s)
}

/// `name:pw:uid:gid:gecos:home:shell`.
pub fn parse_passwd_line(line: &str) -> Option<UserEntry> {
    if line.starts_with('#') {
        return None;
    }
    let f: Vec<&str> = line.split(':').collect();
    if f.len() < 7 || f[0].is_empty() {
        return None;
    }
    Some(UserEntry {
        name: f[0].to_string(),
        uid: f[2].parse().ok()?,
        gid: f[3].parse().ok()?,
        homedir: f[5].to_string(),
        shell: f[6].to_string(),
    })
}

/// `name:pw:gid:members`.
pub fn parse_group_line(line: &str) -> Option<GroupEntry> {
    if line.starts_with('#') {
        return None;
    }
    let f: Vec<&str> = line.split(':').collect();
    if f.len() < 3 || f[0].is_empty() {
        return None;
    }
    Some(GroupEntry {
        name: f[0].to_string(),
        gid: f[2].parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_passwd_and_group() {
        let u =
            parse_passwd_line("nginx:x:101:101:nginx user:/var/cache/nginx:/sbin/nologin").unwrap();
        assert_eq!((u.uid, u.gid, u.name.as_str()), (101, 101, "nginx"));
        assert_eq!(
            (u.homedir.as_str(), u.shell.as_str()),
            ("/var/cache/nginx", "/sbin/nologin")
        );
        assert!(parse_passwd_line("broken:x:abc:1:::").is_none());
        assert!(parse_passwd_line("short:x:1").is_none());
        assert!(parse_passwd_line("#comment").is_none());
        let g = parse_group_line("www-data:x:33:alice,bob").unwrap();
        assert_eq!((g.gid, g.name.as_str()), (33, "www-data"));
        assert!(parse_group_line(":x:1:").is_none());
    }

    #[test]
    fn loads_from_a_root_dir() {
        let dir = std::env::temp_dir().join(format!("peregrine-users-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(
            dir.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nweb:x:1000:2000::/srv:/bin/false\n",
        )
        .unwrap();
        std::fs::write(dir.join("etc/group"), "root:x:0:\nwebgrp:x:2000:\n").unwrap();
        let t = UserTable::load(&dir);
        assert_eq!(t.users[&1000].name, "web");
        assert_eq!(t.users[&1000].homedir, "/srv");
        assert_eq!(t.groups[&2000].name, "webgrp");
        assert!(UserTable::load(Path::new("/nonexistent-root"))
            .users
            .is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
