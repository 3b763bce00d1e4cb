//! The live source: the CO-RE eBPF probe (C, in `probe/`), its loader, the
//! ring-buffer consumer and the /proc scan that seeds state at startup.
//! Stage: **source**. Nothing else in Peregrine touches BPF.
