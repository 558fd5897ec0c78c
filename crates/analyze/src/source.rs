//! Media inputs for offline analysis, as demuxed items per segment: a TS
//! file, an MP4 file (cht's segments or any MP4), or a session's segments.

use crate::AnalyzeError;
use bytes::Bytes;
use cht_core::{adts, AudioFrame, VideoAccessUnit, CLOCK_HZ};
use cht_fmp4::{Mp4Samples, TrackKind};
use cht_ts::{DemuxItem, TsDemuxer};
use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What `cht analyze` was given.
#[derive(Debug, Clone)]
pub enum AnalyzeInput {
    Ts(PathBuf),
    Mp4(PathBuf),
    /// A session directory: its `stream/recording_NNN.mp4` in order.
    Session(PathBuf),
}

impl AnalyzeInput {
    /// Decides by content (and by being a directory), not by extension.
    pub fn detect(path: &Path) -> Result<AnalyzeInput, AnalyzeError> {
        if path.is_dir() {
            return Ok(AnalyzeInput::Session(path.to_path_buf()));
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

    /// (segment number, path) of each piece, in order.
    pub fn segments(&self) -> Result<Vec<(u32, PathBuf, bool)>, AnalyzeError> {
        match self {
            AnalyzeInput::Ts(p) => Ok(vec![(0, p.clone(), false)]),
            AnalyzeInput::Mp4(p) => Ok(vec![(0, p.clone(), true)]),
            AnalyzeInput::Session(dir) => {
                let stream = if dir.join("stream").is_dir() {
                    dir.join("stream")
                } else {
                    dir.clone()
                };
                let io = |source| AnalyzeError::Io {
                    path: stream.clone(),
                    source,
                };
                let mut segs: Vec<(u32, PathBuf, bool)> = std::fs::read_dir(&stream)
                    .map_err(io)?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter_map(|p| {
                        let name = p.file_name()?.to_str()?;
                        let n = name
                            .strip_prefix("recording_")?
                            .strip_suffix(".mp4")?
                            .parse()
                            .ok()?;
                        Some((n, p, true))
                    })
                    .collect();
                segs.sort();
                Ok(segs)
            }
        }
    }

    /// Total bytes to read, for progress.
    pub fn total_bytes(&self) -> u64 {
        self.segments()
            .unwrap_or_default()
            .iter()
            .map(|(_, p, _)| std::fs::metadata(p).map_or(0, |m| m.len()))
            .sum()
    }
}

/// Items of one file, with the bytes read so far (for progress).
pub(crate) trait ItemSource: Iterator<Item = Result<DemuxItem, AnalyzeError>> {
    fn bytes_read(&self) -> u64;
}

pub(crate) fn open(path: &Path, is_mp4: bool) -> Result<Box<dyn ItemSource>, AnalyzeError> {
    Ok(if is_mp4 {
        Box::new(Mp4Items::open(path)?)
    } else {
        Box::new(TsItems::open(path)?)
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

/// MP4 samples as the TS demuxer would have produced them: Annex-B video
/// with the parameter sets in front of each keyframe, ADTS-framed audio,
/// 90 kHz timestamps.
struct Mp4Items {
    path: PathBuf,
    samples: Mp4Samples<File>,
    queue: VecDeque<DemuxItem>,
    parameter_sets: Vec<u8>,
    avc: Option<cht_fmp4::AvcDecoderConfig>,
    audio: Option<cht_core::AudioConfig>,
    read: u64,
}

impl Mp4Items {
    fn open(path: &Path) -> Result<Self, AnalyzeError> {
        let mp4_err = |source| AnalyzeError::Mp4 {
            path: path.to_path_buf(),
            source,
        };
        let samples = Mp4Samples::open(path).map_err(mp4_err)?;
        let avc = samples.avc_config().cloned();
        let audio = samples.tracks().iter().find_map(|t| t.audio);
        let mut queue = VecDeque::new();
        if let Some(cfg) = avc.as_ref().and_then(|a| a.video_config()) {
            queue.push_back(DemuxItem::VideoConfig(cfg));
        }
        if let Some(cfg) = audio {
            queue.push_back(DemuxItem::AudioConfig(cfg));
        }
        let parameter_sets = avc
            .as_ref()
            .map(|a| a.parameter_sets_annexb())
            .unwrap_or_default();
        Ok(Mp4Items {
            path: path.to_path_buf(),
            samples,
            queue,
            parameter_sets,
            avc,
            audio,
            read: 0,
        })
    }
}

fn to_90k(t: i64, timescale: u32) -> i64 {
    (t as i128 * CLOCK_HZ as i128 / timescale.max(1) as i128) as i64
}

impl Iterator for Mp4Items {
    type Item = Result<DemuxItem, AnalyzeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(item) = self.queue.pop_front() {
            return Some(Ok(item));
        }
        loop {
            let sample = match self.samples.next()? {
                Ok(s) => s,
                Err(source) => {
                    return Some(Err(AnalyzeError::Mp4 {
                        path: self.path.clone(),
                        source,
                    }))
                }
            };
            self.read = self.read.max(sample.offset + sample.data.len() as u64);
            match sample.kind {
                TrackKind::Video => {
                    let Some(avc) = &self.avc else { continue };
                    let mut data =
                        Vec::with_capacity(sample.data.len() + self.parameter_sets.len() + 16);
                    if sample.keyframe {
                        data.extend_from_slice(&self.parameter_sets);
                    }
                    avc.sample_to_annexb(&sample.data, &mut data);
                    return Some(Ok(DemuxItem::Video(VideoAccessUnit {
                        pts: to_90k(sample.pts, sample.timescale),
                        dts: to_90k(sample.dts, sample.timescale),
                        keyframe: sample.keyframe,
                        damaged: false,
                        data: Bytes::from(data),
                    })));
                }
                TrackKind::Audio => {
                    let Some(config) = self.audio else { continue };
                    let mut data = Vec::with_capacity(sample.data.len() + 7);
                    adts::write_header(&config, sample.data.len(), &mut data);
                    data.extend_from_slice(&sample.data);
                    return Some(Ok(DemuxItem::Audio(AudioFrame {
                        pts: to_90k(sample.pts, sample.timescale),
                        config,
                        data: Bytes::from(data),
                        header_len: 7,
                    })));
                }
                _ => continue,
            }
        }
    }
}

impl ItemSource for Mp4Items {
    fn bytes_read(&self) -> u64 {
        self.read
    }
}
