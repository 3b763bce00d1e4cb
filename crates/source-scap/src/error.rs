//! Errors that say where: the file, the block (index and type) and the byte
//! offset. For gzip files the offset is into the decompressed stream.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::block::BlockKind;

#[derive(Debug)]
pub struct ScapError {
    /// File name (or the name given to a stream).
    pub path: PathBuf,
    /// Whether offsets count decompressed bytes.
    pub compressed: bool,
    /// 0-based index of the block, when the error is inside one.
    pub block_index: Option<u64>,
    pub block_type: Option<u32>,
    /// Byte offset of the problem in the (decompressed) stream.
    pub offset: u64,
    pub kind: ErrorKind,
}

#[derive(Debug)]
pub enum ErrorKind {
    /// The file could not be opened.
    Open(io::Error),
    Io(io::Error),
    /// The file does not start with a section header block.
    NotScap,
    /// The data ends inside a block.
    Truncated {
        need: u64,
        have: u64,
    },
    /// A block declares an impossible length.
    BadBlockLength {
        len: u32,
        limit: u64,
    },
    /// Header and trailer lengths differ.
    BadTrailer {
        header: u32,
        trailer: u32,
    },
    /// A newer major version than this reader knows.
    UnsupportedVersion {
        major: u16,
        minor: u16,
    },
    /// The block's contents are malformed.
    Malformed(String),
}

impl ScapError {
    /// Short description without the location.
    pub fn reason(&self) -> String {
        match &self.kind {
            ErrorKind::Open(e) => format!("cannot open: {e}"),
            ErrorKind::Io(e) => format!("read error: {e}"),
            ErrorKind::NotScap => "not a scap capture: no section header block at the start".into(),
            ErrorKind::Truncated { need, have } => {
                format!("file truncated: the block needs {need} bytes but only {have} remain")
            }
            ErrorKind::BadBlockLength { len, limit } => {
                format!("bad block length {len} (must be 12..={limit} and fit the file)")
            }
            ErrorKind::BadTrailer { header, trailer } => {
                format!("block length {header} in header but {trailer} in trailer")
            }
            ErrorKind::UnsupportedVersion { major, minor } => {
                format!("capture format version {major}.{minor} is newer than this reader (1.x)")
            }
            ErrorKind::Malformed(m) => m.clone(),
        }
    }
}

impl fmt::Display for ScapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.path.display())?;
        if let ErrorKind::Open(e) = &self.kind {
            return write!(f, "{e}");
        }
        if let Some(i) = self.block_index {
            write!(f, "block #{i}")?;
            if let Some(t) = self.block_type {
                write!(f, " (type 0x{t:x}, {})", BlockKind::of(t).name())?;
            }
            f.write_str(", ")?;
        }
        let what = if self.compressed {
            "decompressed byte offset"
        } else {
            "byte offset"
        };
        write!(f, "{what} {}: {}", self.offset, self.reason())
    }
}

impl std::error::Error for ScapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) | ErrorKind::Open(e) => Some(e),
            _ => None,
        }
    }
}
