//! Why a runtime lookup failed.

use std::fmt;
use std::io;
use std::path::Path;

#[derive(Debug)]
pub enum LookupError {
    /// The socket could not be connected (absent, refused, permission).
    Connect {
        socket: String,
        error: io::Error,
    },
    /// No answer within the configured request timeout.
    Timeout,
    Io(io::Error),
    /// An unexpected HTTP status from the Docker API.
    Http(u16),
    /// A gRPC error status from the CRI.
    Grpc {
        code: u32,
        message: String,
    },
    /// Malformed response bytes.
    Protocol(String),
}

impl LookupError {
    pub(crate) fn connect(socket: &Path, error: io::Error) -> Self {
        LookupError::Connect {
            socket: socket.display().to_string(),
            error,
        }
    }

    /// A timeout rather than a refusal or bad data.
    pub fn is_timeout(&self) -> bool {
        matches!(self, LookupError::Timeout)
    }
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::Connect { socket, error } => {
                write!(f, "cannot connect to {socket}: {error}")
            }
            LookupError::Timeout => f.write_str("runtime did not answer in time"),
            LookupError::Io(e) => write!(f, "I/O error: {e}"),
            LookupError::Http(code) => write!(f, "runtime answered HTTP {code}"),
            LookupError::Grpc { code, message } => write!(f, "gRPC status {code}: {message}"),
            LookupError::Protocol(m) => write!(f, "malformed runtime response: {m}"),
        }
    }
}

impl std::error::Error for LookupError {}
