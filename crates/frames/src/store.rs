//! The frames directory of a session: JPEG files plus `index.json`.

use std::fs;
use std::path::{Path, PathBuf};

use cht_core::Picture;

use crate::atomic_file::write_atomically;
use crate::error::FramesError;
use crate::index::{frame_number, read_index, write_index, FrameEntry, FrameKind};
use crate::jpeg::{encode_jpeg, DEFAULT_QUALITY};

pub const INDEX_FILE: &str = "index.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameStoreOptions {
    /// JPEG quality, 1..=100.
    pub quality: u8,
    /// fsync each JPEG and index before renaming it into place.
    pub fsync: bool,
}

impl Default for FrameStoreOptions {
    fn default() -> Self {
        FrameStoreOptions {
            quality: DEFAULT_QUALITY,
            fsync: true,
        }
    }
}

/// What the caller knows about a frame beyond its pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameMeta {
    /// Seconds on the segment's clock (stored rounded to the millisecond).
    pub timestamp: f64,
    pub segment: u32,
    /// Scene-change score that selected the frame.
    pub score: f64,
    /// Event, update or manual capture.
    pub kind: FrameKind,
    /// Seconds on the segment's clock of the frame shown (`None`: the same
    /// as `timestamp`).
    pub picture_time: Option<f64>,
    /// What changed (`"screen_change"`, ...).
    pub cause: Option<&'static str>,
}

impl FrameMeta {
    /// A detected event whose picture is the frame at `timestamp`.
    pub fn event(timestamp: f64, segment: u32, score: f64) -> Self {
        FrameMeta {
            timestamp,
            segment,
            score,
            kind: FrameKind::Event,
            picture_time: None,
            cause: None,
        }
    }

    /// A capture asked for, of the frame at `timestamp`.
    pub fn manual(timestamp: f64, segment: u32) -> Self {
        FrameMeta {
            kind: FrameKind::Manual,
            ..FrameMeta::event(timestamp, segment, 0.0)
        }
    }
}

/// Owns one frames directory. Only one store (one process) should write a
/// directory at a time; readers may read at any moment.
#[derive(Debug)]
pub struct FrameStore {
    dir: PathBuf,
    index_path: PathBuf,
    /// Prefix of entry paths: the directory's own name, e.g. `frames/`.
    path_prefix: String,
    entries: Vec<FrameEntry>,
    next_number: u64,
    options: FrameStoreOptions,
}

impl FrameStore {
    pub fn open(frames_dir: impl AsRef<Path>) -> Result<FrameStore, FramesError> {
        Self::open_with(frames_dir, FrameStoreOptions::default())
    }

    /// Opens (creating it if needed) a frames directory. An existing index
    /// is loaded, and numbering continues after the highest id found in it
    /// or among the `F*.jpg` files, so nothing on disk is ever overwritten.
    pub fn open_with(
        frames_dir: impl AsRef<Path>,
        options: FrameStoreOptions,
    ) -> Result<FrameStore, FramesError> {
        let dir = frames_dir.as_ref().to_owned();
        fs::create_dir_all(&dir).map_err(FramesError::io(&dir))?;
        let index_path = dir.join(INDEX_FILE);
        let entries = read_index(&index_path)?;
        let highest_in_index = entries
            .iter()
            .filter_map(FrameEntry::number)
            .max()
            .unwrap_or(0);
        let highest_on_disk = highest_jpeg_number(&dir)?;
        let path_prefix = dir
            .file_name()
            .map(|name| format!("{}/", name.to_string_lossy()))
            .unwrap_or_default();
        Ok(FrameStore {
            next_number: highest_in_index.max(highest_on_disk) + 1,
            dir,
            index_path,
            path_prefix,
            entries,
            options,
        })
    }

    /// Encodes `picture` to the next `F{:04}.jpg`, then lists it in the
    /// index. Both files appear atomically; the JPEG comes first, so an index
    /// entry always points at a complete file.
    pub fn write(&mut self, picture: &Picture, meta: FrameMeta) -> Result<FrameEntry, FramesError> {
        let jpeg = encode_jpeg(picture, self.options.quality)?;
        let (id, file_name) = self.claim_next_name();
        write_atomically(&self.dir.join(&file_name), &jpeg, self.options.fsync)?;
        let entry = FrameEntry {
            id,
            timestamp: round_ms(meta.timestamp),
            path: format!("{}{file_name}", self.path_prefix),
            sent_to_agent: false,
            segment: Some(meta.segment),
            score: meta.score.is_finite().then_some(meta.score),
            manual: meta.kind == FrameKind::Manual,
            kind: Some(meta.kind),
            picture_time: Some(round_ms(meta.picture_time.unwrap_or(meta.timestamp))),
            cause: meta.cause.map(str::to_string),
            extra: Default::default(),
        };
        self.entries.push(entry.clone());
        if let Err(e) = write_index(&self.index_path, &self.entries, self.options.fsync) {
            self.entries.pop();
            return Err(e);
        }
        Ok(entry)
    }

    /// Flags the given frames as sent to the agent; returns how many changed.
    /// The index is rewritten (atomically) only when something changed.
    pub fn mark_sent<S: AsRef<str>>(&mut self, ids: &[S]) -> Result<usize, FramesError> {
        let before = self.entries.clone();
        let mut changed = 0;
        for entry in &mut self.entries {
            if !entry.sent_to_agent && ids.iter().any(|id| id.as_ref() == entry.id) {
                entry.sent_to_agent = true;
                changed += 1;
            }
        }
        if changed > 0 {
            if let Err(e) = write_index(&self.index_path, &self.entries, self.options.fsync) {
                self.entries = before;
                return Err(e);
            }
        }
        Ok(changed)
    }

    pub fn entries(&self) -> &[FrameEntry] {
        &self.entries
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn index_path(&self) -> &Path {
        &self.index_path
    }

    /// The id the next written frame would get (if its file name is free).
    pub fn next_id(&self) -> String {
        format_id(self.next_number)
    }

    /// Takes the next number whose file does not exist yet.
    fn claim_next_name(&mut self) -> (String, String) {
        loop {
            let id = format_id(self.next_number);
            self.next_number += 1;
            let file_name = format!("{id}.jpg");
            if !self.dir.join(&file_name).exists() {
                return (id, file_name);
            }
        }
    }
}

fn format_id(number: u64) -> String {
    format!("F{number:04}")
}

fn highest_jpeg_number(dir: &Path) -> Result<u64, FramesError> {
    let mut highest = 0;
    for entry in fs::read_dir(dir).map_err(FramesError::io(dir))? {
        let name = entry.map_err(FramesError::io(dir))?.file_name();
        let stem = name.to_str().and_then(|n| n.strip_suffix(".jpg"));
        if let Some(n) = stem.and_then(frame_number) {
            highest = highest.max(n);
        }
    }
    Ok(highest)
}

/// Times are stored to the millisecond.
fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}
