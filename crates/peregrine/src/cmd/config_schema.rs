//! `peregrine --config-schema`: the JSON Schema of the config file.

use std::io::Write;

pub fn run() -> u8 {
    match serde_json::to_string_pretty(&crate::config::schema::json_schema()) {
        Ok(s) => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let _ = writeln!(std::io::stdout().lock(), "{s}");
            0
        }
        Err(e) => {
            eprintln!("peregrine: {e}");
            1
        }
    }
}
