//! Files that readers see whole or not at all.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::SessionError;

/// How far a write goes before it counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// Handed to the operating system: survives a crash of cht, not a
    /// power loss.
    Written,
    /// fsynced before it is renamed into place: survives a power loss.
    #[default]
    Synced,
}

/// Writes `bytes` to a hidden temporary name next to `path`, fsyncs it if
/// `durability` says so, then renames it over `path` (atomic on POSIX
/// filesystems): readers see the old file or the new one, never a mix.
pub fn write_atomically(
    path: &Path,
    bytes: &[u8],
    durability: Durability,
) -> Result<(), SessionError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    // Readers glob for `F*.jpg` / `index.json`: a dot-prefixed name is
    // ignored. Unique per process and call, so writers never collide.
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}-{seq}.tmp", std::process::id()));
    let result = write_then_rename(&tmp, path, bytes, durability);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn write_then_rename(
    tmp: &Path,
    path: &Path,
    bytes: &[u8],
    durability: Durability,
) -> Result<(), SessionError> {
    let mut file = File::create(tmp).map_err(|e| SessionError::io(tmp, e))?;
    file.write_all(bytes)
        .map_err(|e| SessionError::io(tmp, e))?;
    if durability == Durability::Synced {
        file.sync_all().map_err(|e| SessionError::io(tmp, e))?;
    }
    drop(file);
    fs::rename(tmp, path).map_err(|e| SessionError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index.json");
        write_atomically(&path, b"[1]", Durability::Synced).expect("write");
        write_atomically(&path, b"[1,2]", Durability::Written).expect("replace");
        assert_eq!(fs::read(&path).expect("read"), b"[1,2]");
        assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 1);
    }
}
