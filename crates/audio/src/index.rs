//! The audio and transcript `index.json` files and chunk numbering, as
//! `cht-session` defines them for every index of a session.

use std::path::{Path, PathBuf};

use cht_session::numbering::CHUNKS;
use serde_json::Value;

use crate::error::Result;

/// An index of JSON entries (`audio/index.json`, `transcript/index.json`),
/// with this crate's errors.
#[derive(Debug)]
pub(crate) struct JsonIndex(cht_session::JsonIndex<Value>);

impl JsonIndex {
    /// Loads `path` if it exists (a resumed session keeps earlier entries).
    pub(crate) fn load(path: PathBuf) -> Result<Self> {
        Ok(JsonIndex(cht_session::JsonIndex::load(path)?))
    }

    pub(crate) fn entries(&self) -> &[Value] {
        self.0.entries()
    }

    /// Adds an entry and rewrites the file atomically.
    pub(crate) fn append(&mut self, entry: Value) -> Result<()> {
        Ok(self.0.append(entry)?)
    }
}

/// Writes a file that readers see whole or not at all (fsynced).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(cht_session::write_atomically(
        path,
        bytes,
        cht_session::Durability::Synced,
    )?)
}

/// The number in `chunk_0042`-style ids.
pub(crate) fn chunk_number(id: &str) -> Option<u32> {
    CHUNKS.parse_id(id).and_then(|n| u32::try_from(n).ok())
}

/// The first chunk number not used by `index` entries nor by files in `dir`,
/// so a resumed session never overwrites a chunk (even a crashed `.part`).
pub(crate) fn next_chunk_number(index: &JsonIndex, dir: &Path) -> Result<u32> {
    let in_index: Vec<u64> = index
        .entries()
        .iter()
        .filter_map(|e| e.get("id")?.as_str().and_then(chunk_number))
        .map(u64::from)
        .collect();
    let next = CHUNKS.next(dir, in_index)?;
    Ok(u32::try_from(next).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::fs;

    #[test]
    fn numbering_skips_indexed_chunks_and_leftover_parts() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut index = JsonIndex::load(dir.path().join("index.json")).expect("empty index");
        index.append(json!({"id": "chunk_0000"})).expect("append");
        index.append(json!({"id": "chunk_0007"})).expect("append");
        assert_eq!(next_chunk_number(&index, dir.path()).expect("scan"), 8);
        fs::write(dir.path().join("chunk_0009.wav.part"), b"x").expect("write");
        assert_eq!(next_chunk_number(&index, dir.path()).expect("scan"), 10);
        assert_eq!(chunk_number("chunk_0012"), Some(12));
        assert_eq!(chunk_number("notes"), None);
    }
}
