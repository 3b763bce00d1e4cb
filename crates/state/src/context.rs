//! State as the event formatter's context: `evt.args` shows fds with their
//! names and pids with their commands, as sysdig does.

use peregrine_event::format::{ArgContext, FdView};

use crate::fd::{Role, L4};
use crate::State;

impl ArgContext for State {
    fn thread_known(&self, tid: u64) -> bool {
        self.threads.get(tid as i64).is_some()
    }

    fn fd(&self, tid: u64, fd: i64) -> Option<FdView<'_>> {
        let t = self.threads.get(tid as i64)?;
        let f = self.threads.process(t)?.fds.get(fd)?;
        // libsinsp shows the protocol once a socket has a role, and always
        // for raw sockets.
        let l4 = if f.role != Role::None || f.l4 == L4::Raw {
            f.l4.letter()
        } else {
            None
        };
        Some(FdView {
            type_char: f.type_char(),
            l4_char: l4,
            name: &f.name,
        })
    }

    fn comm(&self, pid: i64) -> Option<&str> {
        self.threads.get(pid).and_then(|t| t.name())
    }

    fn cwd(&self, tid: u64) -> Option<&str> {
        let t = self.threads.get(tid as i64)?;
        self.threads.process(t).map(|p| &*p.cwd)
    }

    fn user_name(&self, tid: u64, uid: u32) -> Option<&str> {
        let cid = self
            .threads
            .get(tid as i64)
            .map_or("", |t| t.container_id());
        self.users.user(cid, uid).map(|u| &*u.name)
    }

    fn group_name(&self, tid: u64, gid: u32) -> Option<&str> {
        let cid = self
            .threads
            .get(tid as i64)
            .map_or("", |t| t.container_id());
        self.users.group(cid, gid).map(|g| &*g.name)
    }

    fn max_buffer_len(&self) -> usize {
        self.max_buffer_len
    }
}
