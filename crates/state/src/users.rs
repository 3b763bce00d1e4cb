//! Users and groups: the host's (from a capture's user list, or live from
//! /etc/passwd and /etc/group) and, per container, the container's own.

use std::sync::Arc;

use peregrine_event::records::{GroupRecord, UserRecord};
use rustc_hash::FxHashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
    pub gid: u32,
    pub name: Arc<str>,
    pub homedir: Arc<str>,
    pub shell: Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub gid: u32,
    pub name: Arc<str>,
}

/// Users and groups of the host and, per container id, of each container.
#[derive(Debug, Default)]
pub struct Users {
    host_users: FxHashMap<u32, User>,
    host_groups: FxHashMap<u32, Group>,
    container_users: FxHashMap<Arc<str>, FxHashMap<u32, User>>,
    container_groups: FxHashMap<Arc<str>, FxHashMap<u32, Group>>,
}

impl Users {
    pub fn add_user(&mut self, r: &UserRecord) {
        let u = User {
            uid: r.uid,
            gid: r.gid,
            name: r.name.as_str().into(),
            homedir: r.homedir.as_str().into(),
            shell: r.shell.as_str().into(),
        };
        if r.container_id.is_empty() {
            self.host_users.insert(r.uid, u);
        } else {
            self.container_users
                .entry(Arc::from(r.container_id.as_str()))
                .or_default()
                .insert(r.uid, u);
        }
    }

    pub fn add_group(&mut self, r: &GroupRecord) {
        let g = Group {
            gid: r.gid,
            name: r.name.as_str().into(),
        };
        if r.container_id.is_empty() {
            self.host_groups.insert(r.gid, g);
        } else {
            self.container_groups
                .entry(Arc::from(r.container_id.as_str()))
                .or_default()
                .insert(r.gid, g);
        }
    }

    /// Whether a container's own users were loaded.
    pub fn has_container(&self, container_id: &str) -> bool {
        self.container_users.contains_key(container_id)
    }

    /// A user of a container (its own /etc/passwd when loaded), else the
    /// host's. Allocation-free.
    pub fn user(&self, container_id: &str, uid: u32) -> Option<&User> {
        if !container_id.is_empty() {
            if let Some(u) = self.container_users.get(container_id) {
                return u.get(&uid);
            }
        }
        self.host_users.get(&uid)
    }

    pub fn group(&self, container_id: &str, gid: u32) -> Option<&Group> {
        if !container_id.is_empty() {
            if let Some(g) = self.container_groups.get(container_id) {
                return g.get(&gid);
            }
        }
        self.host_groups.get(&gid)
    }

    pub fn user_count(&self) -> usize {
        self.host_users.len()
            + self
                .container_users
                .values()
                .map(|m| m.len())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use peregrine_event::records::{parse_group, parse_passwd};

    #[test]
    fn container_users_shadow_host_users() {
        let mut u = Users::default();
        for r in parse_passwd("root:x:0:0:root:/root:/bin/bash\nbad line\n", "") {
            u.add_user(&r);
        }
        for r in parse_passwd("root:x:0:0:r:/home/r:/bin/sh\n", "abc") {
            u.add_user(&r);
        }
        assert_eq!(&*u.user("", 0).unwrap().homedir, "/root");
        assert_eq!(&*u.user("abc", 0).unwrap().homedir, "/home/r");
        assert!(
            u.user("abc", 1000).is_none(),
            "a container's own table is authoritative"
        );
        assert_eq!(&*u.user("zzz", 0).unwrap().homedir, "/root");
        assert!(u.user("", 1000).is_none());
        for g in parse_group("wheel:x:10:a,b\n", "") {
            u.add_group(&g);
        }
        assert_eq!(&*u.group("", 10).unwrap().name, "wheel");
    }
}
