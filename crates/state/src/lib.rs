//! System state built from events: threads with lineage, per-process fd
//! tables, users and groups. Stage: **state**.
