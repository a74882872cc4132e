//! A producer's file as rows of text: the reading is pure, in `relais_domain` (so that it
//! can be fuzzed without the database); re-exported here for the importers, with the
//! opening of a file on disk.

use std::fs::File;
use std::io::Read;
use std::path::Path;

pub use relais_domain::lieux::fichier::*;

/// Opens a file of lieux given by path: only a regular file (not a device such as
/// `/dev/zero`, a pipe or a directory, which may never end), of at most `max` bytes.
pub fn open_path(path: &Path, max: u64) -> Result<File, FileError> {
    let name = || path.display().to_string();
    let file = File::open(path).map_err(|e| match FileError::from(e) {
        FileError::Io(why) => FileError::Io(format!("{} : {why}", name())),
        other => other,
    })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(FileError::NotAFile(name()));
    }
    if meta.len() > max {
        let mo = |n: u64| n.div_ceil(1024 * 1024);
        return Err(FileError::TooBig {
            name: name(),
            size: mo(meta.len()),
            max: mo(max),
        });
    }
    Ok(file)
}

/// Reads a whole file of lieux given by path, checked as [`open_path`] does.
pub fn read_path(path: &Path, max: u64) -> Result<Vec<u8>, FileError> {
    let file = open_path(path, max)?;
    let mut bytes = Vec::new();
    // A file that grows while it is read still stops at the limit.
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(FileError::TooBig {
            name: path.display().to_string(),
            size: (bytes.len() as u64).div_ceil(1024 * 1024),
            max: max.div_ceil(1024 * 1024),
        });
    }
    Ok(bytes)
}
