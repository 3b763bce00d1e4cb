//! Container and Kubernetes identity: container ids from cgroup paths, and
//! metadata looked up asynchronously from the runtimes (Docker API, CRI).
//! Stage: **state**. Never blocks the event path.
//!
//! ```
//! use peregrine_container::{ContainerRef, Runtime};
//! let cgroups = b"cpu=/\0memory=/docker/5dace3de0735f73d2b5048f12d41a71741a02e49668de921fdae62f7e65dc498\0";
//! let c = ContainerRef::from_cgroups_param(cgroups).unwrap();
//! assert_eq!(c.short_id(), "5dace3de0735");
//! assert_eq!(c.runtime(), Runtime::Docker);
//! assert!(ContainerRef::from_cgroups_param(b"cpu=/user.slice\0").is_none());
//! ```

pub mod cgroup;

pub use cgroup::{ContainerRef, Runtime};
