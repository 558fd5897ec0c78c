//! Numbered files: `stream/recording_NNN.mp4`, `frames/F0001.jpg`,
//! `audio/chunk_0000.wav`. The next number always comes from what is on
//! disk (and in the index), never from a counter in memory, so a resumed
//! session never overwrites anything, not even a crashed `.part` file.

use std::fs;
use std::path::Path;

use crate::SessionError;

/// How one kind of file is numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Numbering {
    /// What the name starts with.
    prefix: &'static str,
    /// Digits written (zero-padded).
    width: usize,
    /// Fewest digits a name must have to count.
    min_digits: usize,
    /// What follows the digits: exactly this, or anything when `None`.
    suffix: Option<&'static str>,
    /// The first number handed out.
    first: u64,
}

/// `recording_000.mp4`, from 0.
pub const SEGMENTS: Numbering = Numbering {
    prefix: "recording_",
    width: 3,
    min_digits: 3,
    suffix: Some(".mp4"),
    first: 0,
};

/// `F0001.jpg`, from 1; ids are the names without `.jpg`.
pub const FRAMES: Numbering = Numbering {
    prefix: "F",
    width: 4,
    min_digits: 1,
    suffix: Some(".jpg"),
    first: 1,
};

/// `chunk_0000` followed by anything (`.wav`, `.wav.part`, `.txt`), from 0.
pub const CHUNKS: Numbering = Numbering {
    prefix: "chunk_",
    width: 4,
    min_digits: 1,
    suffix: None,
    first: 0,
};

impl Numbering {
    /// The id of number `n` (`F0042`, `chunk_0042`, `recording_042`).
    pub fn id(&self, n: u64) -> String {
        format!("{}{n:0width$}", self.prefix, width = self.width)
    }

    /// The file name of number `n` (the id plus the fixed suffix, if any).
    pub fn file_name(&self, n: u64) -> String {
        format!("{}{}", self.id(n), self.suffix.unwrap_or(""))
    }

    /// The number in an id (`F0042` -> 42); `None` for ids of another shape.
    pub fn parse_id(&self, id: &str) -> Option<u64> {
        let (n, rest) = self.split(id)?;
        (rest.is_empty() || self.suffix.is_none()).then_some(n)
    }

    /// The number in a file name; `None` for names of another shape.
    pub fn parse_file_name(&self, name: &str) -> Option<u64> {
        let (n, rest) = self.split(name)?;
        match self.suffix {
            Some(suffix) => (rest == suffix).then_some(n),
            None => Some(n),
        }
    }

    fn split<'a>(&self, name: &'a str) -> Option<(u64, &'a str)> {
        let rest = name.strip_prefix(self.prefix)?;
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits < self.min_digits.max(1) {
            return None;
        }
        Some((rest[..digits].parse().ok()?, &rest[digits..]))
    }

    /// The numbered files in `dir`, in order; a missing directory has none.
    pub fn list(&self, dir: &Path) -> Result<Vec<(u64, std::path::PathBuf)>, SessionError> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(SessionError::io(dir, e)),
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| SessionError::io(dir, e))?;
            let name = entry.file_name();
            if let Some(n) = name.to_str().and_then(|n| self.parse_file_name(n)) {
                found.push((n, entry.path()));
            }
        }
        found.sort();
        Ok(found)
    }

    /// The first number above every one used in `dir` or in `also_used`
    /// (an index's ids).
    pub fn next(
        &self,
        dir: &Path,
        also_used: impl IntoIterator<Item = u64>,
    ) -> Result<u64, SessionError> {
        let on_disk = self.list(dir)?.into_iter().map(|(n, _)| n);
        let highest = on_disk.chain(also_used).max();
        Ok(highest.map_or(self.first, |n| n.saturating_add(1).max(self.first)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_foreign_names_do_not() {
        assert_eq!(SEGMENTS.file_name(7), "recording_007.mp4");
        assert_eq!(SEGMENTS.parse_file_name("recording_1234.mp4"), Some(1234));
        for bad in [
            "recording_7.mp4",
            "recording_x.mp4",
            "recording_007.mp4.tmp",
        ] {
            assert_eq!(SEGMENTS.parse_file_name(bad), None, "{bad}");
        }
        assert_eq!(FRAMES.id(12), "F0012");
        assert_eq!(FRAMES.parse_id("F12345"), Some(12345));
        for bad in ["F", "G0001", "F00x1", "F0001.jpg"] {
            assert_eq!(FRAMES.parse_id(bad), None, "{bad}");
        }
        assert_eq!(FRAMES.parse_file_name("F0003.jpg"), Some(3));
        assert_eq!(FRAMES.parse_file_name(".F0003.jpg.1-2.tmp"), None);
        assert_eq!(CHUNKS.parse_file_name("chunk_0009.wav.part"), Some(9));
        assert_eq!(CHUNKS.parse_id("chunk_0012"), Some(12));
        assert_eq!(CHUNKS.parse_file_name("notes.txt"), None);
    }

    #[test]
    fn the_next_number_is_past_disk_and_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(FRAMES.next(dir.path(), []).expect("empty"), 1);
        assert_eq!(
            CHUNKS.next(&dir.path().join("missing"), []).expect("none"),
            0
        );
        fs::write(dir.path().join("F0004.jpg"), b"x").expect("write");
        fs::write(dir.path().join("chunk_0009.wav.part"), b"x").expect("write");
        assert_eq!(FRAMES.next(dir.path(), [2]).expect("disk"), 5);
        assert_eq!(FRAMES.next(dir.path(), [9]).expect("index"), 10);
        assert_eq!(CHUNKS.next(dir.path(), []).expect("part"), 10);
    }
}
