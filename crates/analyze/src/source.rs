//! Media inputs for offline analysis, as demuxed items per segment: a TS
//! file, an MP4 file (cht's segments or any MP4), or a session's segments.

use crate::AnalyzeError;
use cht_core::DemuxItem;
use cht_fmp4::Mp4Demuxer;
use cht_session::Layout;
use cht_ts::TsDemuxer;
use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What `cht analyze` was given.
#[derive(Debug, Clone)]
pub enum AnalyzeInput {
    /// An MPEG-TS file.
    Ts(PathBuf),
    /// An MP4 file (a recording segment or any MP4).
    Mp4(PathBuf),
    /// A session: its `stream/recording_NNN.mp4` segments in order.
    Session(Layout),
}

impl AnalyzeInput {
    /// Decides by content (and by being a directory), not by extension.
    pub fn detect(path: &Path) -> Result<AnalyzeInput, AnalyzeError> {
        if path.is_dir() {
            return Ok(AnalyzeInput::Session(Layout::of_dir(path)));
        }
        let io = |source| AnalyzeError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut head = [0u8; 8];
        let n = File::open(path)
            .and_then(|mut f| f.read(&mut head))
            .map_err(io)?;
        let is_mp4 = n == 8
            && matches!(
                &head[4..8],
                b"ftyp" | b"moov" | b"styp" | b"free" | b"mdat" | b"skip" | b"wide"
            );
        Ok(if is_mp4 {
            AnalyzeInput::Mp4(path.to_path_buf())
        } else {
            AnalyzeInput::Ts(path.to_path_buf())
        })
    }

    /// The files to read, in order.
    pub fn segments(&self) -> Result<Vec<InputFile>, AnalyzeError> {
        let file = |path: &PathBuf, container| InputFile {
            segment: 0,
            session_start: 0.0,
            path: path.clone(),
            container,
        };
        match self {
            AnalyzeInput::Ts(p) => Ok(vec![file(p, Container::MpegTs)]),
            AnalyzeInput::Mp4(p) => Ok(vec![file(p, Container::Mp4)]),
            AnalyzeInput::Session(layout) => Ok(layout
                .timeline(&mut cht_fmp4::duration_of)?
                .into_iter()
                .map(|s| InputFile {
                    segment: s.segment,
                    session_start: s.start,
                    path: s.path,
                    container: Container::Mp4,
                })
                .collect()),
        }
    }

    /// Total bytes to read, for progress.
    pub fn total_bytes(&self) -> u64 {
        self.segments()
            .unwrap_or_default()
            .iter()
            .map(|f| std::fs::metadata(&f.path).map_or(0, |m| m.len()))
            .sum()
    }
}

/// How a file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// MPEG-TS.
    MpegTs,
    /// MP4 (fragmented or not).
    Mp4,
}

/// One file of an input: its segment number and how to read it.
#[derive(Debug, Clone, PartialEq)]
pub struct InputFile {
    /// The segment number (0 for a single file).
    pub segment: u32,
    /// Where the segment begins on the session's timeline (0 for a single
    /// file).
    pub session_start: f64,
    /// The file.
    pub path: PathBuf,
    /// How it is laid out.
    pub container: Container,
}

/// Items of one file, with the bytes read so far (for progress).
pub(crate) trait ItemSource: Iterator<Item = Result<DemuxItem, AnalyzeError>> {
    fn bytes_read(&self) -> u64;
}

pub(crate) fn open(file: &InputFile) -> Result<Box<dyn ItemSource>, AnalyzeError> {
    Ok(match file.container {
        Container::Mp4 => Box::new(Mp4Items::open(&file.path)?),
        Container::MpegTs => Box::new(TsItems::open(&file.path)?),
    })
}

struct TsItems {
    path: PathBuf,
    file: Option<File>,
    demuxer: TsDemuxer,
    buf: Vec<u8>,
    queue: VecDeque<DemuxItem>,
    read: u64,
}

impl TsItems {
    fn open(path: &Path) -> Result<Self, AnalyzeError> {
        let file = File::open(path).map_err(|source| AnalyzeError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(TsItems {
            path: path.to_path_buf(),
            file: Some(file),
            demuxer: TsDemuxer::new(),
            buf: vec![0; 1 << 20],
            queue: VecDeque::new(),
            read: 0,
        })
    }
}

impl Iterator for TsItems {
    type Item = Result<DemuxItem, AnalyzeError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Some(Ok(item));
            }
            let file = self.file.as_mut()?;
            let mut sink: Vec<DemuxItem> = Vec::new();
            match file.read(&mut self.buf) {
                Ok(0) => {
                    self.demuxer.finish(&mut sink);
                    self.file = None;
                }
                Ok(n) => {
                    self.read += n as u64;
                    self.demuxer.push(&self.buf[..n], &mut sink);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(source) => {
                    self.file = None;
                    return Some(Err(AnalyzeError::Io {
                        path: self.path.clone(),
                        source,
                    }));
                }
            }
            self.queue.extend(sink);
        }
    }
}

impl ItemSource for TsItems {
    fn bytes_read(&self) -> u64 {
        self.read
    }
}

/// The items of an MP4 file, as `cht_fmp4` demuxes them.
struct Mp4Items {
    path: PathBuf,
    demuxer: Mp4Demuxer<File>,
}

impl Mp4Items {
    fn open(path: &Path) -> Result<Self, AnalyzeError> {
        let demuxer = Mp4Demuxer::open(path).map_err(|source| AnalyzeError::Mp4 {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Mp4Items {
            path: path.to_path_buf(),
            demuxer,
        })
    }
}

impl Iterator for Mp4Items {
    type Item = Result<DemuxItem, AnalyzeError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.demuxer.next()?.map_err(|source| AnalyzeError::Mp4 {
            path: self.path.clone(),
            source,
        }))
    }
}

impl ItemSource for Mp4Items {
    fn bytes_read(&self) -> u64 {
        self.demuxer.bytes_read()
    }
}
