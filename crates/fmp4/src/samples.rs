//! `Mp4Samples`: the samples of an MP4 file in decode order, with their
//! bytes, pulled one at a time.

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{Cursor, Read, Seek};
use std::path::Path;

use crate::error::Fmp4Error;
use crate::movie::TrackKind;
use crate::mp4_file::Mp4File;
use crate::probe::{track_info, Tally, TrackInfo};
use crate::sample_table::{SampleRef, TableCursor};

/// One sample with its bytes. H.264 samples are length-prefixed NAL units
/// (see `cht_core::h264::AvcDecoderConfig::sample_to_annexb`); AAC samples
/// are raw frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mp4Sample {
    /// The track it belongs to.
    pub track_id: u32,
    /// Video, audio or other.
    pub kind: TrackKind,
    /// Units per second of `dts`, `pts` and `duration`.
    pub timescale: u32,
    /// Decode time in track units (media timeline; edit lists not applied).
    pub dts: i64,
    /// Presentation time in track units: `dts` + composition offset.
    pub pts: i64,
    /// Duration in track units.
    pub duration: u32,
    /// A sync sample (a keyframe for video).
    pub keyframe: bool,
    /// Byte offset of the data in the file.
    pub offset: u64,
    /// The sample's bytes, as stored.
    pub data: Vec<u8>,
}

impl Mp4Sample {
    /// Decode time in seconds.
    pub fn dts_seconds(&self) -> f64 {
        self.dts as f64 / f64::from(self.timescale)
    }

    /// Presentation time in seconds.
    pub fn pts_seconds(&self) -> f64 {
        self.pts as f64 / f64::from(self.timescale)
    }

    /// Duration in seconds.
    pub fn duration_seconds(&self) -> f64 {
        f64::from(self.duration) / f64::from(self.timescale)
    }
}

/// Iterates the samples of a file in decode order: first those of the
/// progressive sample tables, then those of the fragments, tracks merged
/// by decode time (with one fragment of look-ahead).
///
/// Only complete fragments are returned. After `None`, a later `next()`
/// picks up fragments appended since, so a recording that is still being
/// written can be followed. An error ends the iteration.
pub struct Mp4Samples<R> {
    file: Mp4File<R>,
    tracks: Vec<TrackInfo>,
    timescales: Vec<u32>,
    cursors: Vec<TableCursor>,
    peeked: Vec<Option<SampleRef>>,
    /// Samples of the loaded fragments, in decode order, with the number of
    /// the fragment each came from.
    fragment_queue: VecDeque<(SampleRef, u64)>,
    /// (fragment number, samples of it still queued).
    queued_fragments: VecDeque<(u64, usize)>,
    fragments_loaded: u64,
    failed: bool,
}

impl Mp4Samples<File> {
    /// Opens a file on disk.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Fmp4Error> {
        Self::from_reader(File::open(path)?)
    }
}

impl<'a> Mp4Samples<Cursor<&'a [u8]>> {
    /// Reads an MP4 held in memory.
    pub fn from_bytes(data: &'a [u8]) -> Result<Self, Fmp4Error> {
        Self::from_reader(Cursor::new(data))
    }
}

impl<R: Read + Seek> Mp4Samples<R> {
    /// Reads any seekable source (a growing file can be followed).
    pub fn from_reader(src: R) -> Result<Self, Fmp4Error> {
        let file = Mp4File::open(src)?;
        let file_len = file.file_len();
        let mut cursors: Vec<TableCursor> = file
            .movie
            .tracks
            .iter()
            .map(|t| TableCursor::new(&t.table, file_len))
            .collect();
        let peeked = file
            .movie
            .tracks
            .iter()
            .zip(cursors.iter_mut())
            .enumerate()
            .map(|(i, (t, c))| c.next_sample(&t.table, i))
            .collect();
        let tracks: Vec<TrackInfo> = file
            .movie
            .tracks
            .iter()
            .map(|t| track_info(t, &Tally::default()))
            .collect();
        let timescales = tracks.iter().map(|t| t.timescale).collect();
        Ok(Mp4Samples {
            file,
            tracks,
            timescales,
            cursors,
            peeked,
            fragment_queue: VecDeque::new(),
            queued_fragments: VecDeque::new(),
            fragments_loaded: 0,
            failed: false,
        })
    }

    /// The tracks as `moov` describes them (codecs, sizes). Sample counts
    /// are left at zero here: [`crate::probe`] counts them.
    pub fn tracks(&self) -> &[TrackInfo] {
        &self.tracks
    }

    /// The last scan stopped at an incomplete (or unreadable) tail.
    pub fn truncated_tail(&self) -> bool {
        self.file.truncated_tail
    }

    fn next_ref(&mut self) -> Result<Option<SampleRef>, Fmp4Error> {
        if let Some(s) = self.next_progressive() {
            return Ok(Some(s));
        }
        // Tracks are cut at slightly different times, so the next fragment
        // may hold samples earlier than the end of this one: keep it loaded.
        while self.queued_fragments.len() < 2 {
            let Some(samples) = self.file.next_fragment()? else {
                break;
            };
            self.enqueue_fragment(samples);
        }
        let Some((sample, fragment)) = self.fragment_queue.pop_front() else {
            return Ok(None);
        };
        if let Some(entry) = self
            .queued_fragments
            .iter_mut()
            .find(|(n, _)| *n == fragment)
        {
            entry.1 -= 1;
        }
        self.queued_fragments.retain(|&(_, left)| left > 0);
        Ok(Some(sample))
    }

    /// Merges a fragment's samples into the queue by decode time.
    fn enqueue_fragment(&mut self, mut samples: Vec<SampleRef>) {
        if samples.is_empty() {
            return;
        }
        let number = self.fragments_loaded;
        self.fragments_loaded += 1;
        self.queued_fragments.push_back((number, samples.len()));
        samples.sort_by(|a, b| by_decode_time(a, b, &self.timescales));
        let mut older = std::mem::take(&mut self.fragment_queue)
            .into_iter()
            .peekable();
        let mut newer = samples.into_iter().peekable();
        loop {
            let take_older = match (older.peek(), newer.peek()) {
                (Some((a, _)), Some(b)) => {
                    by_decode_time(a, b, &self.timescales) != Ordering::Greater
                }
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let next = if take_older {
                older.next()
            } else {
                newer.next().map(|s| (s, number))
            };
            self.fragment_queue.extend(next);
        }
    }

    /// The earliest pending sample of the progressive tables, if any.
    fn next_progressive(&mut self) -> Option<SampleRef> {
        let next = self
            .peeked
            .iter()
            .flatten()
            .min_by(|a, b| by_decode_time(a, b, &self.timescales))
            .copied()?;
        let track = next.track;
        let file_len = self.file.file_len();
        if next.data_end() > file_len {
            // This track is cut off here; its later samples are too.
            self.peeked[track] = None;
            self.file.truncated_tail = true;
            return self.next_progressive();
        }
        let meta = &self.file.movie.tracks[track];
        self.peeked[track] = self.cursors[track].next_sample(&meta.table, track);
        Some(next)
    }
}

/// Orders samples by decode time in seconds, then by track.
fn by_decode_time(a: &SampleRef, b: &SampleRef, timescales: &[u32]) -> Ordering {
    let ta = i128::from(timescales.get(a.track).copied().unwrap_or(1));
    let tb = i128::from(timescales.get(b.track).copied().unwrap_or(1));
    (i128::from(a.dts) * tb)
        .cmp(&(i128::from(b.dts) * ta))
        .then(a.track.cmp(&b.track))
}

impl<R: Read + Seek> Iterator for Mp4Samples<R> {
    type Item = Result<Mp4Sample, Fmp4Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let result = self.next_ref().and_then(|r| {
            let Some(r) = r else { return Ok(None) };
            let mut data = Vec::new();
            self.file.read_sample(&r, &mut data)?;
            let track = &self.tracks[r.track];
            Ok(Some(Mp4Sample {
                track_id: track.id,
                kind: track.kind,
                timescale: track.timescale,
                dts: r.dts,
                pts: r.dts.saturating_add(r.composition_offset),
                duration: r.duration,
                keyframe: r.keyframe,
                offset: r.offset,
                data,
            }))
        });
        match result {
            Ok(sample) => sample.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}
