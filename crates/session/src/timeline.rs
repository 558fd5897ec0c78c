//! The session's timeline: where each segment sits in the session.
//!
//! Every time cht writes is on a segment's clock (seconds from the
//! segment's first picture). **Session time** places it in the whole
//! session: the segment's `start` plus its segment time, where a segment
//! starts when the segments before it, played one after the other, end (the
//! sum of their durations). Segment 0 starts at 0, so in a one-segment
//! session both times are the same; the pause between two connections is
//! not on the timeline (each segment's wall-clock start, `started_at`, says
//! when it was recorded).
//!
//! The recorder writes `stream/index.json`: one [`SegmentEntry`] per
//! segment, with its `start` from the moment it begins (so that everything
//! written during the segment carries session times) and its duration once
//! finished. A segment that is not listed (sessions of older versions, a
//! segment whose recorder crashed before the entry was written) starts where
//! the one before it ends, its duration read from the file itself: readers
//! and the recorder follow the same rule, so they agree.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::index::{JsonIndex, INDEX_FILE};
use crate::layout::Layout;
use crate::SessionError;

/// One segment as `stream/index.json` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentEntry {
    /// Its number (`recording_NNN.mp4`).
    pub segment: u32,
    /// Relative to the session directory: `stream/recording_000.mp4`.
    pub path: String,
    /// Session time at which it begins, seconds.
    pub start: f64,
    /// Seconds of media, once the segment is finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// When it began, seconds since the Unix epoch (wall clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<f64>,
    /// Fields cht does not know, kept and written back unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Where one segment sits in its session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentTiming {
    /// Its number.
    pub segment: u32,
    /// The file.
    #[serde(skip)]
    pub path: PathBuf,
    /// Session time at which it begins, seconds.
    pub start: f64,
    /// Seconds of media (for a segment being recorded: so far); `None` when
    /// the file cannot be read.
    pub duration: Option<f64>,
    /// When it began, seconds since the Unix epoch, if recorded.
    pub started_at: Option<f64>,
    /// Its recorder marked it finished.
    pub finished: bool,
}

impl SegmentTiming {
    /// Session time at which it ends (its start when its length is unknown).
    pub fn end(&self) -> f64 {
        round_ms(self.start + self.duration.unwrap_or(0.0))
    }

    /// Session time of `segment_time` on this segment's clock.
    pub fn session_time(&self, segment_time: f64) -> f64 {
        round_ms(self.start + segment_time)
    }
}

impl Layout {
    /// `stream/index.json`.
    pub fn segment_index(&self) -> PathBuf {
        self.stream_dir().join(INDEX_FILE)
    }

    /// Every segment on disk with its place on the session's timeline.
    /// `duration_of` reads a segment file's duration (for segments the
    /// index does not give one; `None` if unreadable). An unreadable index
    /// is read around: every segment is then placed from its file.
    pub fn timeline(
        &self,
        duration_of: &mut dyn FnMut(&Path) -> Option<f64>,
    ) -> Result<Vec<SegmentTiming>, SessionError> {
        let listed = match JsonIndex::<SegmentEntry>::load(self.segment_index()) {
            Ok(index) => index.entries().to_vec(),
            Err(e @ SessionError::CorruptIndex { .. }) => {
                tracing::warn!("{e}; segments are placed from their files");
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        let mut timeline: Vec<SegmentTiming> = Vec::new();
        for segment in self.segments()? {
            let entry = listed.iter().rev().find(|e| e.segment == segment.number);
            let start = entry
                .map(|e| e.start)
                .unwrap_or_else(|| timeline.last().map_or(0.0, SegmentTiming::end));
            let duration = entry
                .and_then(|e| e.duration)
                .or_else(|| duration_of(&segment.path));
            timeline.push(SegmentTiming {
                segment: segment.number,
                path: segment.path,
                start: round_ms(start),
                duration: duration.map(round_ms),
                started_at: entry.and_then(|e| e.started_at),
                finished: entry.is_some_and(|e| e.duration.is_some()),
            });
        }
        Ok(timeline)
    }

    /// Session time at which a new segment would begin: where the last one
    /// ends (0 for the first).
    pub fn next_segment_start(
        &self,
        duration_of: &mut dyn FnMut(&Path) -> Option<f64>,
    ) -> Result<f64, SessionError> {
        Ok(self
            .timeline(duration_of)?
            .last()
            .map_or(0.0, SegmentTiming::end))
    }
}

/// Times are kept to the millisecond.
pub fn round_ms(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn entry(segment: u32, start: f64, duration: Option<f64>) -> SegmentEntry {
        SegmentEntry {
            segment,
            path: format!("stream/recording_{segment:03}.mp4"),
            start,
            duration,
            started_at: Some(1_764_253_920.5),
            extra: Map::new(),
        }
    }

    #[test]
    fn listed_segments_keep_their_place_and_others_follow_their_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(dir.path());
        layout.ensure().expect("layout");
        for n in [0, 1, 2, 4] {
            fs::write(layout.segment_path(n), b"x").expect("write");
        }
        let mut index = JsonIndex::load(layout.segment_index()).expect("index");
        index.append(entry(0, 0.0, Some(10.0))).expect("append");
        // Segment 1 crashed: listed with its start, no duration.
        index.append(entry(1, 10.0, None)).expect("append");
        // Segment 2 and 4 are not listed (an older cht).
        let mut probed = Vec::new();
        let timeline = layout
            .timeline(&mut |path: &Path| {
                probed.push(path.to_path_buf());
                Some(2.5)
            })
            .expect("timeline");
        let places: Vec<(u32, f64, Option<f64>, bool)> = timeline
            .iter()
            .map(|t| (t.segment, t.start, t.duration, t.finished))
            .collect();
        assert_eq!(
            places,
            vec![
                (0, 0.0, Some(10.0), true),
                (1, 10.0, Some(2.5), false),
                (2, 12.5, Some(2.5), false),
                (4, 15.0, Some(2.5), false),
            ]
        );
        assert_eq!(probed.len(), 3, "listed durations are not probed");
        assert_eq!(timeline[1].session_time(1.25), 11.25);
        assert_eq!(
            layout.next_segment_start(&mut |_| Some(2.5)).expect("next"),
            17.5
        );
    }

    #[test]
    fn a_session_without_segments_starts_at_zero_and_a_bad_index_is_read_around() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(dir.path());
        layout.ensure().expect("layout");
        assert_eq!(layout.next_segment_start(&mut |_| None).expect("next"), 0.0);
        fs::write(layout.segment_index(), b"{oops").expect("write");
        fs::write(layout.segment_path(0), b"x").expect("write");
        fs::write(layout.segment_path(1), b"x").expect("write");
        let timeline = layout.timeline(&mut |_| Some(4.0)).expect("timeline");
        assert_eq!(timeline[1].start, 4.0);
        let unreadable = layout.timeline(&mut |_| None).expect("timeline");
        assert_eq!((unreadable[1].start, unreadable[1].duration), (0.0, None));
    }
}
