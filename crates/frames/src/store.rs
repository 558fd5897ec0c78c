//! The frames directory of a session: JPEG files plus `index.json`.

use std::fs;
use std::path::{Path, PathBuf};

use cht_core::Picture;
use cht_session::numbering::FRAMES;
use cht_session::{write_atomically, Durability, JsonIndex, INDEX_FILE};

use crate::error::FramesError;
use crate::index::{FrameEntry, FrameKind};
use crate::jpeg::{encode_jpeg, DEFAULT_QUALITY};

/// How frames are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameStoreOptions {
    /// JPEG quality, 1..=100.
    pub quality: u8,
    /// fsync each JPEG and index before renaming it into place.
    pub fsync: bool,
}

impl FrameStoreOptions {
    fn durability(&self) -> Durability {
        if self.fsync {
            Durability::Synced
        } else {
            Durability::Written
        }
    }
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
    /// The segment the frame comes from.
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
    /// Where the segment begins on the session's timeline, seconds (see
    /// `cht_session::SegmentTiming`): the entry's session times are this
    /// plus its segment times.
    pub segment_start: f64,
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
            segment_start: 0.0,
        }
    }

    /// The same, for a segment that begins at `segment_start` in the session.
    pub fn in_session(mut self, segment_start: f64) -> Self {
        self.segment_start = segment_start;
        self
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
    /// Prefix of entry paths: the directory's own name, e.g. `frames/`.
    path_prefix: String,
    index: JsonIndex<FrameEntry>,
    next_number: u64,
    options: FrameStoreOptions,
}

impl FrameStore {
    /// Opens a frames directory with the default options (see [`FrameStore::open_with`]).
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
        let index = JsonIndex::load(dir.join(INDEX_FILE))?.with_durability(options.durability());
        // Readers (the agent) may poll the index before the first frame.
        index.create_if_missing()?;
        let in_index = index.entries().iter().filter_map(FrameEntry::number);
        let next_number = FRAMES.next(&dir, in_index.collect::<Vec<_>>())?;
        let path_prefix = dir
            .file_name()
            .map(|name| format!("{}/", name.to_string_lossy()))
            .unwrap_or_default();
        Ok(FrameStore {
            next_number,
            dir,
            path_prefix,
            index,
            options,
        })
    }

    /// Encodes `picture` to the next `F{:04}.jpg`, then lists it in the
    /// index. Both files appear atomically; the JPEG comes first, so an index
    /// entry always points at a complete file.
    pub fn write(&mut self, picture: &Picture, meta: FrameMeta) -> Result<FrameEntry, FramesError> {
        let jpeg = encode_jpeg(picture, self.options.quality)?;
        let (id, file_name) = self.claim_next_name();
        write_atomically(&self.dir.join(&file_name), &jpeg, self.options.durability())?;
        let picture_time = meta.picture_time.unwrap_or(meta.timestamp);
        let entry = FrameEntry {
            id,
            timestamp: round_ms(meta.timestamp),
            path: format!("{}{file_name}", self.path_prefix),
            sent_to_agent: false,
            segment: Some(meta.segment),
            score: meta.score.is_finite().then_some(meta.score),
            manual: meta.kind == FrameKind::Manual,
            kind: Some(meta.kind),
            picture_time: Some(round_ms(picture_time)),
            cause: meta.cause.map(str::to_string),
            session_time: Some(round_ms(meta.segment_start + meta.timestamp)),
            session_picture_time: Some(round_ms(meta.segment_start + picture_time)),
            extra: Default::default(),
        };
        self.index.append(entry.clone())?;
        Ok(entry)
    }

    /// Flags the given frames as sent to the agent; returns how many changed.
    /// The index is rewritten (atomically) only when something changed.
    pub fn mark_sent<S: AsRef<str>>(&mut self, ids: &[S]) -> Result<usize, FramesError> {
        let mut changed = 0;
        self.index.update(|entries| {
            for entry in entries {
                if !entry.sent_to_agent && ids.iter().any(|id| id.as_ref() == entry.id) {
                    entry.sent_to_agent = true;
                    changed += 1;
                }
            }
            changed > 0
        })?;
        Ok(changed)
    }

    /// The entries of the index, oldest first.
    pub fn entries(&self) -> &[FrameEntry] {
        self.index.entries()
    }

    /// The frames directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `index.json`.
    pub fn index_path(&self) -> &Path {
        self.index.path()
    }

    /// The id the next written frame would get (if its file name is free).
    pub fn next_id(&self) -> String {
        FRAMES.id(self.next_number)
    }

    /// Takes the next number whose file does not exist yet.
    fn claim_next_name(&mut self) -> (String, String) {
        loop {
            let id = FRAMES.id(self.next_number);
            let file_name = FRAMES.file_name(self.next_number);
            self.next_number += 1;
            if !self.dir.join(&file_name).exists() {
                return (id, file_name);
            }
        }
    }
}

use cht_session::round_ms;
