//! Output channels (stdout, file, syslog, program, HTTP) behind a bounded
//! queue, off the event path. Stage: **outputs**.
