//! Configuration: `peregrine.yaml` / `falco.yaml`, `-o key=value` overrides
//! and `config_files` includes. Only this crate knows about config files.
