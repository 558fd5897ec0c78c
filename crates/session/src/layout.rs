//! The layout of a session directory, defined once: subdirectory names, the
//! index files and the segment files, for the recorder, the analysis and
//! every command that lists or reads a session.

use std::fs;
use std::path::{Path, PathBuf};

use crate::index::INDEX_FILE;
use crate::lock::{RecorderInfo, SessionLock};
use crate::numbering::SEGMENTS;
use crate::SessionError;

/// The recorded segments.
pub const STREAM_DIR: &str = "stream";
/// Scene frames and their index.
pub const FRAMES_DIR: &str = "frames";
/// Audio chunks and their index.
pub const AUDIO_DIR: &str = "audio";
/// Transcripts of the chunks and their index.
pub const TRANSCRIPT_DIR: &str = "transcript";
/// The agent's own files.
pub const AGENT_DIR: &str = "agent";

/// The subdirectories every session has.
pub const SUBDIRS: [&str; 5] = [STREAM_DIR, FRAMES_DIR, AUDIO_DIR, TRANSCRIPT_DIR, AGENT_DIR];

/// One recorded segment: `stream/recording_NNN.mp4`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Segment {
    /// Its number (one per sender connection).
    pub number: u32,
    /// The file.
    pub path: PathBuf,
}

/// Where a session's files are: `<root>/{stream,frames,audio,transcript,agent}`.
/// Also the layout of `cht analyze --out DIR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
    /// Usually `<root>/stream`; `root` itself for a bare directory of
    /// segments.
    stream: PathBuf,
}

impl Layout {
    /// The layout rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Layout {
            stream: root.join(STREAM_DIR),
            root,
        }
    }

    /// The layout of a directory someone pointed at: a session directory
    /// (it has `stream/`), its `stream/` directory, or a bare directory of
    /// `recording_NNN.mp4` segments.
    pub fn of_dir(dir: &Path) -> Self {
        if dir.join(STREAM_DIR).is_dir() {
            return Layout::new(dir);
        }
        match dir.parent() {
            Some(parent) if dir.file_name().is_some_and(|n| n == STREAM_DIR) => Layout::new(parent),
            _ => Layout {
                root: dir.to_path_buf(),
                stream: dir.to_path_buf(),
            },
        }
    }

    /// The session directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Bytes the session's files take (every regular file below the
    /// directory; links are not followed). Unreadable entries count 0.
    pub fn disk_size(&self) -> u64 {
        dir_size(&self.root)
    }

    /// `stream/`.
    pub fn stream_dir(&self) -> PathBuf {
        self.stream.clone()
    }

    /// `frames/`.
    pub fn frames_dir(&self) -> PathBuf {
        self.root.join(FRAMES_DIR)
    }

    /// `audio/`.
    pub fn audio_dir(&self) -> PathBuf {
        self.root.join(AUDIO_DIR)
    }

    /// `transcript/`.
    pub fn transcript_dir(&self) -> PathBuf {
        self.root.join(TRANSCRIPT_DIR)
    }

    /// `agent/`.
    pub fn agent_dir(&self) -> PathBuf {
        self.root.join(AGENT_DIR)
    }

    /// The index file of one of the directories above.
    pub fn index_of(dir: &Path) -> PathBuf {
        dir.join(INDEX_FILE)
    }

    /// `stream/recording_NNN.mp4`.
    pub fn segment_path(&self, number: u32) -> PathBuf {
        self.stream.join(SEGMENTS.file_name(u64::from(number)))
    }

    /// The segments on disk, in order: the one listing every command uses.
    pub fn segments(&self) -> Result<Vec<Segment>, SessionError> {
        Ok(SEGMENTS
            .list(&self.stream)?
            .into_iter()
            .filter_map(|(n, path)| {
                Some(Segment {
                    number: u32::try_from(n).ok()?,
                    path,
                })
            })
            .collect())
    }

    /// The number the next segment gets: one past the highest on disk.
    pub fn next_segment_number(&self) -> Result<u32, SessionError> {
        let next = SEGMENTS.next(&self.stream, [])?;
        Ok(u32::try_from(next).unwrap_or(u32::MAX))
    }

    /// Removes the results of an earlier analysis: the frames
    /// (`frames/F*.jpg`, `frames/index.json`) and the audio chunks
    /// (`audio/chunk_*`, `.part` files included, `audio/index.json`), so
    /// that a new analysis replaces them instead of adding to them. Returns
    /// how many frames and chunks were removed.
    pub fn remove_analysis(&self) -> Result<(usize, usize), SessionError> {
        let frames = remove_numbered(&self.frames_dir(), &crate::numbering::FRAMES)?;
        let chunks = remove_numbered(&self.audio_dir(), &crate::numbering::CHUNKS)?;
        for dir in [self.frames_dir(), self.audio_dir()] {
            let index = Self::index_of(&dir);
            match fs::remove_file(&index) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(SessionError::io(index, e)),
            }
        }
        Ok((frames, chunks))
    }

    /// Removes the audio chunks a killed process left unfinished
    /// (`audio/chunk_NNNN.wav.part`): they are in no index, and the
    /// recording holds their audio. Returns the files removed.
    pub fn remove_partial_chunks(&self) -> Result<Vec<PathBuf>, SessionError> {
        let dir = self.audio_dir();
        let mut removed = Vec::new();
        for (_, path) in crate::numbering::CHUNKS.list(&dir)? {
            if path.extension().is_some_and(|e| e == "part") {
                fs::remove_file(&path).map_err(|e| SessionError::io(&path, e))?;
                removed.push(path);
            }
        }
        Ok(removed)
    }

    /// Takes the session for recording (see [`SessionLock`]).
    pub fn lock_for_recording(&self, info: &RecorderInfo) -> Result<SessionLock, SessionError> {
        SessionLock::for_recording(&self.root, info)
    }

    /// Takes the session for one short change (see [`SessionLock`]).
    pub fn lock_for_update(&self) -> Result<SessionLock, SessionError> {
        SessionLock::for_update(&self.root)
    }

    /// The `cht record` recording this session now, if any.
    pub fn recorder(&self) -> Option<RecorderInfo> {
        crate::lock::recorder_of(&self.root)
    }

    /// Creates any missing subdirectory.
    pub fn ensure(&self) -> Result<(), SessionError> {
        for sub in SUBDIRS {
            let dir = self.root.join(sub);
            fs::create_dir_all(&dir).map_err(|e| SessionError::io(dir, e))?;
        }
        Ok(())
    }

    /// Removes the session directory if nothing was ever recorded in it
    /// (only the subdirectories and empty indexes): a session nothing came
    /// of leaves no trace. True when it was removed.
    pub fn remove_if_empty(&self) -> bool {
        fn is_empty_index(path: &Path) -> bool {
            path.file_name().is_some_and(|n| n == INDEX_FILE)
                && fs::read(path).is_ok_and(|bytes| {
                    serde_json::from_slice::<Vec<serde_json::Value>>(&bytes)
                        .is_ok_and(|v| v.is_empty())
                })
        }
        fn has_content(dir: &Path) -> bool {
            fs::read_dir(dir).map_or(true, |entries| {
                entries.filter_map(|e| e.ok()).any(|e| {
                    let path = e.path();
                    if e.file_name() == crate::lock::LOCK_FILE {
                        false
                    } else if path.is_dir() {
                        has_content(&path)
                    } else {
                        !is_empty_index(&path)
                    }
                })
            })
        }
        !has_content(&self.root) && fs::remove_dir_all(&self.root).is_ok()
    }
}

/// Removes the files of one numbering in `dir`; returns how many.
fn remove_numbered(
    dir: &Path,
    numbering: &crate::numbering::Numbering,
) -> Result<usize, SessionError> {
    let files = numbering.list(dir)?;
    for (_, path) in &files {
        fs::remove_file(path).map_err(|e| SessionError::io(path, e))?;
    }
    Ok(files.len())
}

fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(path) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_analysis_is_replaced_and_partial_chunks_removed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(tmp.path().join("s"));
        layout.ensure().expect("layout");
        for name in ["F0001.jpg", "F0002.jpg", "index.json", "notes.txt"] {
            fs::write(layout.frames_dir().join(name), b"x").expect("write");
        }
        for name in ["chunk_0000.wav", "chunk_0001.wav.part", "index.json"] {
            fs::write(layout.audio_dir().join(name), b"x").expect("write");
        }
        fs::write(layout.segment_path(0), b"x").expect("segment");
        let partial = layout.remove_partial_chunks().expect("partial");
        assert_eq!(
            partial,
            vec![layout.audio_dir().join("chunk_0001.wav.part")]
        );
        assert!(layout.audio_dir().join("chunk_0000.wav").exists());
        assert_eq!(layout.remove_analysis().expect("remove"), (2, 1));
        let left = |d: PathBuf| {
            let mut names: Vec<String> = fs::read_dir(d)
                .expect("dir")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        assert_eq!(left(layout.frames_dir()), ["notes.txt"]);
        assert!(left(layout.audio_dir()).is_empty());
        assert!(layout.segment_path(0).exists(), "the recording stays");
    }

    #[test]
    fn every_way_to_name_a_session_lists_the_same_segments() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(tmp.path().join("s"));
        layout.ensure().expect("layout");
        for name in [
            "recording_000.mp4",
            "recording_002.mp4",
            "notes.mp4",
            "recording_1.mp4",
        ] {
            fs::write(layout.stream_dir().join(name), b"x").expect("write");
        }
        let expected = vec![
            Segment {
                number: 0,
                path: layout.segment_path(0),
            },
            Segment {
                number: 2,
                path: layout.segment_path(2),
            },
        ];
        assert_eq!(layout.segments().expect("list"), expected);
        assert_eq!(
            Layout::of_dir(layout.root()).segments().expect("session"),
            expected
        );
        assert_eq!(
            Layout::of_dir(&layout.stream_dir())
                .segments()
                .expect("stream"),
            expected
        );
        let bare = Layout::of_dir(&layout.stream_dir().canonicalize().expect("real"));
        assert_eq!(bare.segments().expect("bare").len(), 2);
        assert_eq!(layout.next_segment_number().expect("next"), 3);
    }

    #[test]
    fn only_a_session_without_files_is_removed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let empty = Layout::new(tmp.path().join("empty"));
        empty.ensure().expect("layout");
        fs::write(Layout::index_of(&empty.frames_dir()), b"[\n\n]\n").expect("index");
        assert!(empty.remove_if_empty());
        assert!(!empty.root().exists());
        let used = Layout::new(tmp.path().join("used"));
        used.ensure().expect("layout");
        fs::write(used.frames_dir().join("F0001.jpg"), b"x").expect("write");
        assert!(!used.remove_if_empty());
        assert!(used.root().exists());
        let indexed = Layout::new(tmp.path().join("indexed"));
        indexed.ensure().expect("layout");
        let entry = br#"[{"id":"F0001"}]"#;
        fs::write(Layout::index_of(&indexed.frames_dir()), entry).expect("index");
        assert!(!indexed.remove_if_empty());
    }
}
