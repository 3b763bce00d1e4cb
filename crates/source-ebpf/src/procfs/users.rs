//! Users and groups from the host's `/etc/passwd` and `/etc/group`.

use peregrine_event::records::{GroupRecord, UserRecord};

/// `name:x:uid:gid:gecos:home:shell` lines; malformed lines are skipped.
pub fn parse_passwd(s: &str) -> Vec<UserRecord> {
    s.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 7 {
                return None;
            }
            Some(UserRecord {
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                name: f[0].to_string(),
                homedir: f[5].to_string(),
                shell: f[6].to_string(),
                container_id: String::new(),
            })
        })
        .collect()
}

/// `name:x:gid:members` lines.
pub fn parse_group(s: &str) -> Vec<GroupRecord> {
    s.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 3 {
                return None;
            }
            Some(GroupRecord {
                gid: f[2].parse().ok()?,
                name: f[0].to_string(),
                container_id: String::new(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_and_group() {
        let u = parse_passwd("root:x:0:0:root:/root:/bin/bash\nbad line\n# c\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n");
        assert_eq!(u.len(), 2);
        assert_eq!(u[1].name, "nobody");
        assert_eq!((u[1].uid, u[1].gid), (65534, 65534));
        assert_eq!(u[0].homedir, "/root");
        let g = parse_group("root:x:0:\nadm:x:4:syslog,alice\nbroken\n");
        assert_eq!(g.len(), 2);
        assert_eq!(g[1].name, "adm");
        assert_eq!(g[1].gid, 4);
    }
}
