//! `index.json` files: a JSON array of entries that other programs (the
//! agent) read while the session runs, rewritten atomically on every change.

use std::fs;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::atomic::{write_atomically, Durability};
use crate::SessionError;

/// The name of every index file of a session (`frames/index.json`,
/// `audio/index.json`, `transcript/index.json`).
pub const INDEX_FILE: &str = "index.json";

/// An index file and the entries it holds. One writer per file (one
/// process); readers may read it at any moment and always see a whole
/// array, one entry per line.
#[derive(Debug)]
pub struct JsonIndex<T> {
    path: PathBuf,
    entries: Vec<T>,
    durability: Durability,
}

impl<T: Serialize + DeserializeOwned> JsonIndex<T> {
    /// Loads `path` if it exists (a resumed session keeps earlier
    /// entries); a missing file is an empty index, anything else that is
    /// not an array of entries is [`SessionError::CorruptIndex`] (and the
    /// file is left alone). Writes are fsynced before they are renamed into
    /// place.
    pub fn load(path: impl Into<PathBuf>) -> Result<Self, SessionError> {
        let path = path.into();
        let entries = match fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| SessionError::CorruptIndex {
                    path: path.clone(),
                    reason: e.to_string(),
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(SessionError::io(&path, e)),
        };
        Ok(JsonIndex {
            path,
            entries,
            durability: Durability::Synced,
        })
    }

    /// How far each rewrite goes (default: [`Durability::Synced`]).
    pub fn with_durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// Writes the (empty) index if there is no file yet, so that readers
    /// polling it find an array from the start instead of no file.
    pub fn create_if_missing(&self) -> Result<(), SessionError> {
        if self.path.exists() {
            return Ok(());
        }
        self.save()
    }

    /// Where the index lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entries, in the order they were added.
    pub fn entries(&self) -> &[T] {
        &self.entries
    }

    /// Adds an entry and rewrites the file; on failure the entry is not
    /// kept.
    pub fn append(&mut self, entry: T) -> Result<(), SessionError> {
        self.entries.push(entry);
        let result = self.save();
        if result.is_err() {
            self.entries.pop();
        }
        result
    }

    /// Changes entries in place; the file is rewritten when `change`
    /// returns true, and the entries are restored if that fails.
    pub fn update(&mut self, change: impl FnOnce(&mut Vec<T>) -> bool) -> Result<(), SessionError>
    where
        T: Clone,
    {
        let before = self.entries.clone();
        if !change(&mut self.entries) {
            return Ok(());
        }
        let result = self.save();
        if result.is_err() {
            self.entries = before;
        }
        result
    }

    fn save(&self) -> Result<(), SessionError> {
        let mut text = String::from("[\n");
        for (i, entry) in self.entries.iter().enumerate() {
            let line = serde_json::to_string(entry).map_err(|e| SessionError::CorruptIndex {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
            if i > 0 {
                text.push_str(",\n");
            }
            text.push_str("  ");
            text.push_str(&line);
        }
        text.push_str("\n]\n");
        write_atomically(&self.path, text.as_bytes(), self.durability)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn appends_atomically_reloads_and_updates() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(INDEX_FILE);
        let mut index = JsonIndex::<Value>::load(&path).expect("empty index");
        index.append(json!({"id": "chunk_0000"})).expect("append");
        index.append(json!({"id": "chunk_0007"})).expect("append");
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "[\n  {\"id\":\"chunk_0000\"},\n  {\"id\":\"chunk_0007\"}\n]\n"
        );
        let mut reloaded = JsonIndex::<Value>::load(&path).expect("reload");
        assert_eq!(reloaded.entries().len(), 2);
        reloaded
            .update(|entries| {
                entries.retain(|e| e["id"] != "chunk_0000");
                true
            })
            .expect("update");
        assert_eq!(
            JsonIndex::<Value>::load(&path)
                .expect("again")
                .entries()
                .len(),
            1
        );
        let fresh = JsonIndex::<Value>::load(dir.path().join("other.json")).expect("empty");
        fresh.create_if_missing().expect("create");
        assert_eq!(
            fs::read_to_string(fresh.path()).expect("written"),
            "[\n\n]\n"
        );
        reloaded.create_if_missing().expect("already there");
        assert_eq!(
            JsonIndex::<Value>::load(&path)
                .expect("kept")
                .entries()
                .len(),
            1
        );
        let leftovers = fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .count();
        assert_eq!(leftovers, 0);
    }

    #[test]
    fn a_corrupt_index_is_a_typed_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(INDEX_FILE);
        fs::write(&path, b"[{\"id\": ").expect("write");
        assert!(matches!(
            JsonIndex::<Value>::load(&path),
            Err(SessionError::CorruptIndex { .. })
        ));
        fs::write(&path, b"{}").expect("write");
        assert!(JsonIndex::<Value>::load(&path).is_err());
        assert_eq!(fs::read(&path).expect("read"), b"{}", "left alone");
    }
}
