//! Users and groups from the host's `/etc/passwd` and `/etc/group`.

use peregrine_event::records::{self, GroupRecord, UserRecord};

/// The host's `/etc/passwd` text as user records.
pub fn parse_passwd(s: &str) -> Vec<UserRecord> {
    records::parse_passwd(s, "")
}

/// The host's `/etc/group` text as group records.
pub fn parse_group(s: &str) -> Vec<GroupRecord> {
    records::parse_group(s, "")
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
