//! The detection engine: field extraction, compiled conditions, rules
//! indexed by event type. Stage: **engine**. Knows nothing of YAML files or
//! outputs.
