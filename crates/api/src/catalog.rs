//! The sessions as the API shows them, read from their files: one place
//! that lists sessions, places every picture, chunk and transcript on the
//! session's timeline, and marks pictures as sent (through the live
//! recording when the session is the one being recorded).

use std::path::{Path, PathBuf};

use cht_analyze::LiveControl;
use cht_frames::{FrameEntry, FrameKind, FrameStore};
use cht_session::numbering::{CHUNKS, FRAMES, SEGMENTS};
use cht_session::{
    round_ms, JsonIndex, Layout, RecorderInfo, SegmentTiming, Session, SessionError, SessionsDir,
};
use serde::Serialize;
use serde_json::Value;

/// Longest transcript file read (a transcript of a chunk is a few lines).
const MAX_TRANSCRIPT: u64 = 1 << 20;
/// Largest picture file read.
const MAX_PICTURE: u64 = 64 << 20;

/// What went wrong answering about a session.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The id is not a session id.
    #[error("{0}")]
    InvalidId(String),
    /// No such session.
    #[error("no session {0:?}")]
    NoSession(String),
    /// No such segment file in the session.
    #[error("no segment {segment:?} in session {session:?} (segments are recording_000.mp4, recording_001.mp4...)")]
    NoSegment {
        /// The session.
        session: String,
        /// The segment asked for.
        segment: String,
    },
    /// No such picture in the session.
    #[error("no picture {frame:?} in session {session:?}")]
    NoPicture {
        /// The session.
        session: String,
        /// The picture asked for.
        frame: String,
    },
    /// Another process records the session: changes go through it.
    #[error("session {session:?} is being recorded by another cht process{}: mark pictures sent through its control API", .recorder.as_ref().and_then(|r| r.control.as_ref()).map(|c| format!(" (control API on {c})")).unwrap_or_default())]
    Busy {
        /// The session.
        session: String,
        /// The recorder, as it describes itself.
        recorder: Option<RecorderInfo>,
    },
    /// A request that cannot be answered as asked.
    #[error("{0}")]
    BadRequest(String),
    /// A file of the session cannot be read or written.
    #[error("{0}")]
    Files(String),
}

impl CatalogError {
    fn from_session(id: &str, e: SessionError) -> Self {
        match e {
            SessionError::InvalidId { .. } => CatalogError::InvalidId(e.to_string()),
            SessionError::NotFound { .. } | SessionError::Escapes { .. } => {
                CatalogError::NoSession(id.to_string())
            }
            SessionError::Busy { recorder, .. } => CatalogError::Busy {
                session: id.to_string(),
                recorder,
            },
            other => CatalogError::Files(other.to_string()),
        }
    }
}

/// A session as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    /// Its id (the directory's name).
    pub id: String,
    /// A `cht record` records it now (this process or another).
    pub recording: bool,
    /// It is the recording of this very process: the live endpoints
    /// (`/status`, `/capture`, `/events`...) are about it.
    pub live: bool,
    /// When its first segment began, seconds since the Unix epoch (`null`
    /// for sessions of older versions).
    pub started_at: Option<f64>,
    /// Seconds of media: where its last segment ends on its timeline.
    pub duration: f64,
    /// Its segments, in order, with their place on the timeline.
    pub segments: Vec<SegmentInfo>,
    /// Pictures written.
    pub frames: usize,
    /// Pictures not yet marked as sent to the agent.
    pub unsent_frames: usize,
    /// Audio chunks written.
    pub audio_chunks: usize,
    /// Transcripts written.
    pub transcripts: usize,
    /// Bytes of all its files.
    pub bytes: u64,
}

/// One segment of a session.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentInfo {
    /// Its number.
    pub segment: u32,
    /// Relative to the session: `stream/recording_000.mp4`.
    pub path: String,
    /// Session time at which it begins, seconds.
    pub start: f64,
    /// Seconds of media (so far, while recorded); `null` if unreadable.
    pub duration: Option<f64>,
    /// When it began, seconds since the Unix epoch, if recorded.
    pub started_at: Option<f64>,
    /// Its recorder finished it.
    pub finished: bool,
    /// Bytes of the file.
    pub bytes: u64,
    /// Where its clock's 0 (the first picture) is in the file's media
    /// time, seconds: a player showing segment time `t` is at media time
    /// `media_start + t` (`null`: no picture yet, or unreadable).
    pub media_start: Option<f64>,
}

/// One thing on a session's timeline. `time` is on the segment's clock,
/// `session_time` on the session's timeline; entries come in session time
/// order.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimelineEntry {
    /// A segment begins.
    Segment {
        /// Its number.
        segment: u32,
        /// 0: its clock starts with it.
        time: f64,
        /// Where it begins.
        session_time: f64,
        /// Seconds of media.
        duration: Option<f64>,
        /// When it began, seconds since the Unix epoch, if recorded.
        started_at: Option<f64>,
    },
    /// A picture (`time` is when the change began; `picture_time` the
    /// moment shown).
    Picture {
        /// `F0001`...
        id: String,
        /// Its segment.
        segment: u32,
        /// When the change began, segment clock.
        time: f64,
        /// The same, session timeline.
        session_time: f64,
        /// The moment shown, segment clock.
        picture_time: f64,
        /// The same, session timeline.
        session_picture_time: f64,
        /// `event`, `update` or `manual`.
        kind: Option<FrameKind>,
        /// What changed.
        cause: Option<String>,
        /// The scene score that selected it.
        score: Option<f64>,
        /// Whether the agent was given it.
        sent_to_agent: bool,
        /// Relative to the session.
        path: String,
    },
    /// An audio chunk.
    Chunk {
        /// `chunk_0000`...
        id: String,
        /// Its segment.
        segment: u32,
        /// Its start, segment clock (negative: audio before the first picture).
        time: f64,
        /// The same, session timeline.
        session_time: f64,
        /// Seconds.
        duration: f64,
        /// Relative to the session.
        path: String,
    },
    /// The transcript of an audio chunk.
    Transcript {
        /// The chunk's id.
        id: String,
        /// Its segment.
        segment: u32,
        /// The chunk's start, segment clock.
        time: f64,
        /// The same, session timeline.
        session_time: f64,
        /// The chunk's length.
        duration: f64,
        /// Relative to the session.
        path: String,
        /// What was said.
        text: String,
    },
}

impl TimelineEntry {
    /// Its place on the session's timeline.
    pub fn session_time(&self) -> f64 {
        match self {
            TimelineEntry::Segment { session_time, .. }
            | TimelineEntry::Picture { session_time, .. }
            | TimelineEntry::Chunk { session_time, .. }
            | TimelineEntry::Transcript { session_time, .. } => *session_time,
        }
    }

    /// Ties in time: a segment first, then its pictures, chunks, transcripts.
    fn rank(&self) -> u8 {
        match self {
            TimelineEntry::Segment { .. } => 0,
            TimelineEntry::Picture { .. } => 1,
            TimelineEntry::Chunk { .. } => 2,
            TimelineEntry::Transcript { .. } => 3,
        }
    }
}

/// The transcript of one chunk, placed in the session.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TranscriptLine {
    /// The chunk's id.
    pub id: String,
    /// Its segment.
    pub segment: u32,
    /// The chunk's start, segment clock.
    pub start: f64,
    /// The same, session timeline.
    pub session_start: f64,
    /// The chunk's length.
    pub duration: f64,
    /// What was said (trimmed).
    pub text: String,
}

/// Which pictures to list.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FrameQuery {
    /// Only those not yet marked as sent to the agent.
    pub unsent: bool,
    /// Only those whose `session_time` is at or after this.
    pub since: Option<f64>,
}

/// The live recording of this process, if any.
#[derive(Clone)]
struct Live {
    session: String,
    control: LiveControl,
}

/// Every session in a sessions directory, and the one this process records.
#[derive(Clone)]
pub struct Catalog {
    dir: SessionsDir,
    live: Option<Live>,
}

impl Catalog {
    /// The sessions under `dir`.
    pub fn new(dir: SessionsDir) -> Self {
        Catalog { dir, live: None }
    }

    /// The same, with `session` recorded by this process (`control` is its
    /// analysis' control side: pictures of that session are marked as sent
    /// through it, the one writer of its index).
    pub fn with_live(mut self, session: &str, control: LiveControl) -> Self {
        self.live = Some(Live {
            session: session.to_string(),
            control,
        });
        self
    }

    /// The sessions directory.
    pub fn dir(&self) -> &SessionsDir {
        &self.dir
    }

    /// The live recording's control side, when `id` is the session this
    /// process records.
    pub fn live_control(&self, id: &str) -> Option<&LiveControl> {
        self.live
            .as_ref()
            .filter(|live| live.session == id)
            .map(|live| &live.control)
    }

    /// The id of the session this process records, if any.
    pub fn live_session(&self) -> Option<&str> {
        self.live.as_ref().map(|live| live.session.as_str())
    }

    /// Every session, newest first.
    pub fn sessions(&self) -> Result<Vec<SessionInfo>, CatalogError> {
        let sessions = self
            .dir
            .list()
            .map_err(|e| CatalogError::Files(e.to_string()))?;
        Ok(sessions.iter().map(|s| self.info(s)).collect())
    }

    /// One session.
    pub fn session(&self, id: &str) -> Result<SessionInfo, CatalogError> {
        Ok(self.info(&self.open(id)?))
    }

    /// Opens a session by id (validated: no path tricks).
    pub fn open(&self, id: &str) -> Result<Session, CatalogError> {
        self.dir
            .open(id)
            .map_err(|e| CatalogError::from_session(id, e))
    }

    fn info(&self, session: &Session) -> SessionInfo {
        let layout = session.layout();
        let timeline = segment_timeline(&layout);
        let frames = read_frames(&layout).unwrap_or_default();
        let segments: Vec<SegmentInfo> = timeline
            .iter()
            .map(|t| SegmentInfo {
                segment: t.segment,
                path: relative(&layout, &t.path),
                start: t.start,
                duration: t.duration,
                started_at: t.started_at,
                finished: t.finished,
                bytes: std::fs::metadata(&t.path).map_or(0, |m| m.len()),
                media_start: media_start(&t.path),
            })
            .collect();
        let id = session.id.to_string();
        SessionInfo {
            recording: self.live_session() == Some(id.as_str()) || layout.recorder().is_some(),
            live: self.live_session() == Some(id.as_str()),
            started_at: timeline.first().and_then(|t| t.started_at),
            duration: timeline.last().map_or(0.0, SegmentTiming::end),
            segments,
            unsent_frames: frames.iter().filter(|f| !f.sent_to_agent).count(),
            frames: frames.len(),
            audio_chunks: read_values(&Layout::index_of(&layout.audio_dir())).len(),
            transcripts: read_values(&Layout::index_of(&layout.transcript_dir())).len(),
            bytes: session.layout().disk_size(),
            id,
        }
    }

    /// The pictures of a session that `query` selects, with their session
    /// times.
    pub fn frames(&self, id: &str, query: FrameQuery) -> Result<Vec<FrameEntry>, CatalogError> {
        let layout = self.open(id)?.layout();
        let starts = segment_timeline(&layout);
        let mut frames = read_frames(&layout)?;
        for frame in &mut frames {
            place_frame(frame, &starts);
        }
        frames.retain(|f| {
            !(query.unsent && f.sent_to_agent)
                && query
                    .since
                    .is_none_or(|since| f.session_time.unwrap_or(f.timestamp) >= since)
        });
        Ok(frames)
    }

    /// The JPEG of picture `frame` (`F0001`), or `None` when the session has
    /// no such picture.
    pub fn picture(&self, id: &str, frame: &str) -> Result<Vec<u8>, CatalogError> {
        let session = self.open(id)?;
        let no_picture = || CatalogError::NoPicture {
            session: id.to_string(),
            frame: frame.to_string(),
        };
        // The file is named after the id: nothing from the index is joined
        // onto a path.
        let number = FRAMES.parse_id(frame).ok_or_else(no_picture)?;
        let path = session.frames_dir().join(FRAMES.file_name(number));
        read_capped(&path, MAX_PICTURE).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => no_picture(),
            _ => CatalogError::Files(format!("{}: {e}", path.display())),
        })
    }

    /// The file of segment `name` (`recording_000.mp4`) of a session.
    pub fn segment_file(&self, id: &str, name: &str) -> Result<PathBuf, CatalogError> {
        let session = self.open(id)?;
        let no_segment = || CatalogError::NoSegment {
            session: id.to_string(),
            segment: name.to_string(),
        };
        // The path is built from the number alone.
        let number = SEGMENTS
            .parse_file_name(name)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(no_segment)?;
        let path = session.segment_path(number);
        if path.is_file() {
            Ok(path)
        } else {
            Err(no_segment())
        }
    }

    /// Everything on the session's timeline, in session time order.
    pub fn timeline(&self, id: &str) -> Result<Vec<TimelineEntry>, CatalogError> {
        let layout = self.open(id)?.layout();
        let starts = segment_timeline(&layout);
        let mut entries: Vec<TimelineEntry> = starts
            .iter()
            .map(|t| TimelineEntry::Segment {
                segment: t.segment,
                time: 0.0,
                session_time: t.start,
                duration: t.duration,
                started_at: t.started_at,
            })
            .collect();
        for mut f in read_frames(&layout)? {
            place_frame(&mut f, &starts);
            entries.push(TimelineEntry::Picture {
                segment: f.segment.unwrap_or(0),
                time: f.timestamp,
                session_time: f.session_time.unwrap_or(f.timestamp),
                picture_time: f.shown_at(),
                session_picture_time: f.session_picture_time.unwrap_or(f.shown_at()),
                kind: f.kind,
                cause: f.cause,
                score: f.score,
                sent_to_agent: f.sent_to_agent,
                path: f.path,
                id: f.id,
            });
        }
        for chunk in read_chunks(&layout, &starts) {
            entries.push(TimelineEntry::Chunk {
                id: chunk.id,
                segment: chunk.segment,
                time: chunk.start,
                session_time: chunk.session_start,
                duration: chunk.duration,
                path: chunk.path,
            });
        }
        for line in self.transcript_lines(&layout, &starts, None) {
            entries.push(TimelineEntry::Transcript {
                path: format!("{}/{}.txt", cht_session::TRANSCRIPT_DIR, line.id),
                id: line.id,
                segment: line.segment,
                time: line.start,
                session_time: line.session_start,
                duration: line.duration,
                text: line.text,
            });
        }
        entries.sort_by(|a, b| {
            a.session_time()
                .total_cmp(&b.session_time())
                .then(a.rank().cmp(&b.rank()))
        });
        Ok(entries)
    }

    /// The transcripts of the chunks that end after `since` (session
    /// time), in order.
    pub fn transcript(
        &self,
        id: &str,
        since: Option<f64>,
    ) -> Result<Vec<TranscriptLine>, CatalogError> {
        let layout = self.open(id)?.layout();
        let starts = segment_timeline(&layout);
        Ok(self.transcript_lines(&layout, &starts, since))
    }

    /// How many transcripts a session has (from its index alone: cheap
    /// enough to ask often).
    pub fn transcript_count(&self, id: &str) -> usize {
        self.open(id).map_or(0, |session| {
            read_values(&Layout::index_of(&session.layout().transcript_dir())).len()
        })
    }

    fn transcript_lines(
        &self,
        layout: &Layout,
        starts: &[SegmentTiming],
        since: Option<f64>,
    ) -> Vec<TranscriptLine> {
        let chunks = read_chunks(layout, starts);
        let mut lines: Vec<TranscriptLine> =
            read_values(&Layout::index_of(&layout.transcript_dir()))
                .iter()
                .filter_map(|entry| {
                    let id = entry.get("id")?.as_str()?;
                    let number = CHUNKS.parse_id(id)?;
                    let chunk = chunks.iter().find(|c| c.id == id);
                    let start = number_field(entry, "start").or(chunk.map(|c| c.start))?;
                    let duration = number_field(entry, "duration")
                        .or(chunk.map(|c| c.duration))
                        .unwrap_or(0.0);
                    let segment = entry
                        .get("segment")
                        .and_then(Value::as_u64)
                        .and_then(|s| u32::try_from(s).ok())
                        .or(chunk.map(|c| c.segment))
                        .unwrap_or(0);
                    let session_start = number_field(entry, "session_start")
                        .unwrap_or_else(|| session_time(starts, segment, start));
                    let path = layout
                        .transcript_dir()
                        .join(format!("{}.txt", CHUNKS.id(number)));
                    let text = read_capped(&path, MAX_TRANSCRIPT).ok()?;
                    Some(TranscriptLine {
                        id: id.to_string(),
                        segment,
                        start,
                        session_start,
                        duration,
                        text: String::from_utf8_lossy(&text).trim().to_string(),
                    })
                })
                .filter(|line| since.is_none_or(|t| line.session_start + line.duration > t))
                .collect();
        lines.sort_by(|a, b| a.session_start.total_cmp(&b.session_start));
        lines
    }

    /// Marks pictures of a session as sent to the agent; returns how many
    /// changed. The session this process records is changed through its
    /// analysis; one another process records is refused
    /// ([`CatalogError::Busy`]: that process owns the index).
    pub fn mark_sent(&self, id: &str, ids: &[String]) -> Result<usize, CatalogError> {
        if let Some(control) = self.live_control(id) {
            return control
                .mark_sent(ids.to_vec())
                .map_err(|e| CatalogError::Files(e.to_string()));
        }
        let session = self.open(id)?;
        let _lock = session
            .layout()
            .lock_for_update()
            .map_err(|e| CatalogError::from_session(id, e))?;
        let mut store = FrameStore::open(session.frames_dir())
            .map_err(|e| CatalogError::Files(e.to_string()))?;
        store
            .mark_sent(ids)
            .map_err(|e| CatalogError::Files(e.to_string()))
    }
}

/// Renders transcripts as text: one paragraph per chunk, headed by its
/// session time (`[01:02.5]`).
pub fn transcript_text(lines: &[TranscriptLine]) -> String {
    let mut text = String::new();
    for line in lines {
        if line.text.is_empty() {
            continue;
        }
        text.push_str(&format!("[{}] {}\n", clock(line.session_start), line.text));
    }
    text
}

/// `mm:ss.s` (or `h:mm:ss.s`) of a session time.
pub fn clock(seconds: f64) -> String {
    let tenths = (seconds.max(0.0) * 10.0).round() as u64;
    let (h, m, s) = (tenths / 36_000, tenths / 600 % 60, tenths % 600);
    let s = format!("{:02}.{}", s / 10, s % 10);
    if h > 0 {
        format!("{h}:{m:02}:{s}")
    } else {
        format!("{m:02}:{s}")
    }
}

/// An audio chunk as `audio/index.json` lists it, placed in the session.
struct ChunkRow {
    id: String,
    segment: u32,
    start: f64,
    session_start: f64,
    duration: f64,
    path: String,
}

fn read_chunks(layout: &Layout, starts: &[SegmentTiming]) -> Vec<ChunkRow> {
    read_values(&Layout::index_of(&layout.audio_dir()))
        .iter()
        .filter_map(|entry| {
            let id = entry.get("id")?.as_str()?.to_string();
            let start = number_field(entry, "start")?;
            let segment = entry
                .get("segment")
                .and_then(Value::as_u64)
                .and_then(|s| u32::try_from(s).ok())
                .unwrap_or(0);
            Some(ChunkRow {
                session_start: number_field(entry, "session_start")
                    .unwrap_or_else(|| session_time(starts, segment, start)),
                duration: number_field(entry, "duration").unwrap_or(0.0),
                path: entry
                    .get("path")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("audio/{id}.wav"), str::to_string),
                id,
                segment,
                start,
            })
        })
        .collect()
}

/// The segments' places; a session whose segments cannot be listed has
/// none (everything is then placed at its segment time).
fn segment_timeline(layout: &Layout) -> Vec<SegmentTiming> {
    layout
        .timeline(&mut cht_fmp4::duration_of)
        .unwrap_or_else(|e| {
            tracing::warn!(
                "cannot place the segments of {}: {e}",
                layout.root().display()
            );
            Vec::new()
        })
}

/// The presentation time of a segment's first video sample (the picture
/// its clock starts with), in the file's media time. Read from the head of
/// the file only (the init segment and the first fragments; the reader
/// takes a cut tail in its stride), so that it costs the same for a
/// segment of an hour as for one of a second.
fn media_start(path: &Path) -> Option<f64> {
    for head in [1u64 << 20, 16 << 20] {
        let bytes = read_capped(path, head).ok()?;
        let whole = (bytes.len() as u64) < head;
        let found = cht_fmp4::Mp4Samples::from_bytes(&bytes)
            .ok()
            .and_then(|samples| {
                // Audio may come first in decode order: a few samples are enough.
                samples
                    .take(512)
                    .filter_map(Result::ok)
                    .find(|s| s.kind == cht_fmp4::TrackKind::Video)
                    .map(|s| round_ms(s.pts_seconds()))
            });
        if found.is_some() || whole {
            return found;
        }
    }
    None
}

/// Fills in the session times an index of an older version lacks.
fn place_frame(frame: &mut FrameEntry, starts: &[SegmentTiming]) {
    let segment = frame.segment.unwrap_or(0);
    if frame.session_time.is_none() {
        frame.session_time = Some(session_time(starts, segment, frame.timestamp));
    }
    if frame.session_picture_time.is_none() {
        frame.session_picture_time = Some(session_time(starts, segment, frame.shown_at()));
    }
}

fn session_time(starts: &[SegmentTiming], segment: u32, time: f64) -> f64 {
    let start = starts
        .iter()
        .find(|t| t.segment == segment)
        .map_or(0.0, |t| t.start);
    round_ms(start + time)
}

fn read_frames(layout: &Layout) -> Result<Vec<FrameEntry>, CatalogError> {
    JsonIndex::<FrameEntry>::load(Layout::index_of(&layout.frames_dir()))
        .map(|index| index.entries().to_vec())
        .map_err(|e| CatalogError::Files(e.to_string()))
}

/// The entries of an index, or none when it is missing or unreadable.
fn read_values(path: &Path) -> Vec<Value> {
    JsonIndex::<Value>::load(path)
        .map(|index| index.entries().to_vec())
        .unwrap_or_default()
}

fn number_field(entry: &Value, name: &str) -> Option<f64> {
    entry.get(name).and_then(Value::as_f64)
}

fn relative(layout: &Layout, path: &Path) -> String {
    path.strip_prefix(layout.root())
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

fn read_capped(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A session with two listed segments, pictures, chunks and transcripts
    /// written as cht writes them, plus an older index without session
    /// times.
    fn session(dir: &Path) -> Session {
        let sessions = SessionsDir::new(dir);
        let session = sessions.create_new().expect("session");
        let layout = session.layout();
        fs::write(layout.segment_path(0), b"x").expect("segment");
        fs::write(layout.segment_path(1), b"x").expect("segment");
        fs::write(
            layout.segment_index(),
            r#"[{"segment":0,"path":"stream/recording_000.mp4","start":0.0,"duration":20.0,"started_at":1764253920.5},
               {"segment":1,"path":"stream/recording_001.mp4","start":20.0}]"#,
        )
        .expect("stream index");
        fs::write(
            Layout::index_of(&layout.frames_dir()),
            r#"[{"id":"F0001","timestamp":1.0,"path":"frames/F0001.jpg","sent_to_agent":true,"segment":0,"kind":"event","picture_time":1.5,"session_time":1.0,"session_picture_time":1.5},
               {"id":"F0002","timestamp":3.0,"path":"frames/F0002.jpg","sent_to_agent":false,"segment":1,"picture_time":3.25}]"#,
        )
        .expect("frames");
        fs::write(
            layout.frames_dir().join("F0002.jpg"),
            b"\xff\xd8jpeg\xff\xd9",
        )
        .expect("jpeg");
        fs::write(
            Layout::index_of(&layout.audio_dir()),
            r#"[{"id":"chunk_0000","path":"audio/chunk_0000.wav","start":-0.02,"duration":10.0,"segment":0,"session_start":-0.02},
               {"id":"chunk_0001","path":"audio/chunk_0001.wav","start":1.0,"duration":5.0,"segment":1}]"#,
        )
        .expect("audio");
        fs::write(
            Layout::index_of(&layout.transcript_dir()),
            r#"[{"id":"chunk_0000","path":"transcript/chunk_0000.txt","chunk":"audio/chunk_0000.wav","start":-0.02,"duration":10.0},
               {"id":"chunk_0001","path":"transcript/chunk_0001.txt","chunk":"audio/chunk_0001.wav","segment":1,"start":1.0,"duration":5.0,"session_start":21.0}]"#,
        )
        .expect("transcripts");
        fs::write(layout.transcript_dir().join("chunk_0000.txt"), "hello\n").expect("txt");
        fs::write(layout.transcript_dir().join("chunk_0001.txt"), " world \n").expect("txt");
        session
    }

    #[test]
    fn everything_is_placed_on_the_session_timeline() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let session = session(tmp.path());
        let catalog = Catalog::new(SessionsDir::new(tmp.path()));
        let id = session.id.as_str();

        let info = catalog.session(id).expect("info");
        assert_eq!((info.frames, info.unsent_frames), (2, 1));
        assert_eq!((info.audio_chunks, info.transcripts), (2, 2));
        assert_eq!(info.segments.len(), 2);
        assert_eq!(info.segments[1].path, "stream/recording_001.mp4");
        assert_eq!(info.started_at, Some(1764253920.5));
        assert!(!info.recording && !info.live);

        let frames = catalog.frames(id, FrameQuery::default()).expect("frames");
        assert_eq!(
            frames[1].session_time,
            Some(23.0),
            "an older entry is placed"
        );
        assert_eq!(frames[1].session_picture_time, Some(23.25));
        let unsent = catalog
            .frames(
                id,
                FrameQuery {
                    unsent: true,
                    since: None,
                },
            )
            .expect("unsent");
        assert_eq!(unsent.len(), 1);
        let late = catalog
            .frames(
                id,
                FrameQuery {
                    unsent: false,
                    since: Some(1.5),
                },
            )
            .expect("since");
        assert_eq!(
            late.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
            ["F0002"]
        );

        let timeline = catalog.timeline(id).expect("timeline");
        let summary: Vec<(String, f64)> = timeline
            .iter()
            .map(|e| {
                let json = serde_json::to_value(e).expect("json");
                (
                    format!(
                        "{} {}",
                        json["type"].as_str().unwrap_or(""),
                        json["id"].as_str().unwrap_or("")
                    ),
                    e.session_time(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("chunk chunk_0000".to_string(), -0.02),
                ("transcript chunk_0000".to_string(), -0.02),
                ("segment ".to_string(), 0.0),
                ("picture F0001".to_string(), 1.0),
                ("segment ".to_string(), 20.0),
                ("chunk chunk_0001".to_string(), 21.0),
                ("transcript chunk_0001".to_string(), 21.0),
                ("picture F0002".to_string(), 23.0),
            ]
        );

        let lines = catalog.transcript(id, Some(9.0)).expect("transcript");
        assert_eq!(lines.len(), 2, "the first chunk ends at 9.98");
        assert_eq!(
            transcript_text(&lines),
            "[00:00.0] hello\n[00:21.0] world\n"
        );
        assert_eq!(catalog.transcript(id, Some(10.0)).expect("later").len(), 1);
        assert_eq!(clock(3725.26), "1:02:05.3");
    }

    #[test]
    fn pictures_are_found_by_id_only_and_marked_sent_under_the_lock() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let session = session(tmp.path());
        let catalog = Catalog::new(SessionsDir::new(tmp.path()));
        let id = session.id.as_str();
        assert_eq!(
            catalog.picture(id, "F0002").expect("jpeg"),
            b"\xff\xd8jpeg\xff\xd9"
        );
        for bad in ["F0001", "F9", "../F0002", "F0002.jpg", "x"] {
            assert!(
                matches!(
                    catalog.picture(id, bad),
                    Err(CatalogError::NoPicture { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            catalog.picture("../etc", "F0002"),
            Err(CatalogError::InvalidId(_))
        ));
        assert!(matches!(
            catalog.session("nope"),
            Err(CatalogError::NoSession(_))
        ));

        let ids = vec![
            "F0002".to_string(),
            "F0001".to_string(),
            "F0404".to_string(),
        ];
        assert_eq!(catalog.mark_sent(id, &ids).expect("marked"), 1);
        assert_eq!(catalog.session(id).expect("info").unsent_frames, 0);

        let recorder = session
            .layout()
            .lock_for_recording(&RecorderInfo::this_process())
            .expect("lock");
        assert!(catalog.session(id).expect("info").recording);
        assert!(matches!(
            catalog.mark_sent(id, &ids),
            Err(CatalogError::Busy { .. })
        ));
        drop(recorder);
    }
}
