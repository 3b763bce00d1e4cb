//! Container and Kubernetes identity: container ids from cgroup paths, and
//! metadata looked up asynchronously from the runtimes (Docker API, CRI).
//! Stage: **state**. Never blocks the event path.
