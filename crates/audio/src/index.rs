//! `index.json` files: a JSON array of entries, rewritten atomically on every
//! append so a reader never sees half a file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{AudioError, Result};

/// An index file and the entries it holds.
#[derive(Debug)]
pub(crate) struct JsonIndex {
    path: PathBuf,
    entries: Vec<Value>,
}

impl JsonIndex {
    /// Loads `path` if it exists (a resumed session keeps earlier entries).
    pub(crate) fn load(path: PathBuf) -> Result<Self> {
        let entries = match fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Array(entries)) => entries,
                Ok(_) => {
                    return Err(AudioError::Index {
                        path,
                        reason: "top level is not an array".into(),
                    })
                }
                Err(e) => {
                    return Err(AudioError::Index {
                        path,
                        reason: e.to_string(),
                    })
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(AudioError::io(&path)(e)),
        };
        Ok(JsonIndex { path, entries })
    }

    pub(crate) fn entries(&self) -> &[Value] {
        &self.entries
    }

    pub(crate) fn append(&mut self, entry: Value) -> Result<()> {
        self.entries.push(entry);
        let mut text = String::from("[\n");
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                text.push_str(",\n");
            }
            text.push_str("  ");
            text.push_str(&e.to_string());
        }
        text.push_str("\n]\n");
        write_atomically(&self.path, text.as_bytes())
    }
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it
/// over `path`: readers see the old file or the new one, never a mix.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut file = fs::File::create(&tmp).map_err(AudioError::io(&tmp))?;
    file.write_all(bytes).map_err(AudioError::io(&tmp))?;
    file.sync_all().map_err(AudioError::io(&tmp))?;
    fs::rename(&tmp, path).map_err(AudioError::io(path))
}

/// The number in `chunk_0042`-style names (`chunk_0042.wav`, `.wav.part`, ...).
pub(crate) fn chunk_number(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("chunk_")?;
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// The first chunk number not used by `index` entries nor by files in `dir`,
/// so a resumed session never overwrites a chunk (even a crashed `.part`).
pub(crate) fn next_chunk_number(index: &JsonIndex, dir: &Path) -> Result<u32> {
    let in_index = index
        .entries()
        .iter()
        .filter_map(|e| e.get("id")?.as_str().and_then(chunk_number));
    let mut max: Option<u32> = in_index.max();
    for entry in fs::read_dir(dir).map_err(AudioError::io(dir))? {
        let entry = entry.map_err(AudioError::io(dir))?;
        if let Some(n) = chunk_number(&entry.file_name().to_string_lossy()) {
            max = Some(max.map_or(n, |m| m.max(n)));
        }
    }
    Ok(max.map_or(0, |m| m.saturating_add(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn appends_atomically_and_reloads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index.json");
        let mut index = JsonIndex::load(path.clone()).expect("empty index");
        index.append(json!({"id": "chunk_0000"})).expect("append");
        index.append(json!({"id": "chunk_0007"})).expect("append");
        let reloaded = JsonIndex::load(path.clone()).expect("reload");
        assert_eq!(reloaded.entries().len(), 2);
        fs::write(dir.path().join("chunk_0009.wav.part"), b"x").expect("write");
        assert_eq!(next_chunk_number(&reloaded, dir.path()).expect("scan"), 10);
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn corrupt_index_is_a_typed_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("index.json");
        fs::write(&path, b"[{\"id\": ").expect("write");
        assert!(matches!(
            JsonIndex::load(path),
            Err(AudioError::Index { .. })
        ));
        assert_eq!(chunk_number("chunk_0012.wav"), Some(12));
        assert_eq!(chunk_number("notes.txt"), None);
    }
}
