//! Container and Kubernetes identity: container ids from cgroup paths, and
//! metadata looked up asynchronously from the runtimes (Docker API, CRI).
//! Stage: **state**. Never blocks the event path.
//!
//! - [`ContainerRef`]: id and runtime from a thread's cgroups, allocation-free
//!   (`None` means a host process: `container.id` = `host`).
//! - [`ContainerManager`]: `observe` queues an unknown container for lookup
//!   by worker threads; `get` returns its [`ContainerInfo`] once a runtime
//!   answered (until then fields render `<NA>`); `drain_lifecycle` yields
//!   "started with metadata"/"stopped" records for Falco's `container`
//!   event; `user`/`group` resolve ids inside the container.
//!
//! ```
//! use peregrine_container::{Config, ContainerManager, ContainerRef, Runtime};
//! let cgroups = b"cpu=/\0memory=/docker/5dace3de0735f73d2b5048f12d41a71741a02e49668de921fdae62f7e65dc498\0";
//! let c = ContainerRef::from_cgroups_param(cgroups).unwrap();
//! assert_eq!(c.short_id(), "5dace3de0735");
//! assert_eq!(c.runtime(), Runtime::Docker);
//! assert!(ContainerRef::from_cgroups_param(b"cpu=/user.slice\0").is_none());
//!
//! let manager = ContainerManager::new(Config::without_engines());
//! manager.observe(&c, 1234); // returns at once
//! assert!(manager.get(c.id()).is_none()); // not known: fields show <NA>
//! ```

pub mod cgroup;
pub mod config;
mod cri;
mod docker;
mod error;
pub mod fields;
mod h2;
mod http1;
pub mod info;
mod manager;
mod proto;
pub mod users;

pub use cgroup::{ContainerRef, Runtime};
pub use config::{Config, EngineConfig};
pub use error::LookupError;
pub use info::{ContainerInfo, Mount, PodInfo};
pub use manager::{ContainerManager, LifecycleEvent, LifecycleKind, LookupState, Stats};
pub use users::{GroupEntry, UserEntry};

/// Test support: raw CRI calls (to create pods in tests, as the kubelet
/// would). Not part of the stable API.
#[doc(hidden)]
pub mod testing {
    pub use crate::h2::GrpcConn;
    pub use crate::proto::{fields, Enc, Wire};
}
