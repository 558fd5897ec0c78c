//! An MP4 file as [`DemuxItem`]s: the same items the TS demuxer produces, so
//! every stage reads a recording like a live stream.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek};
use std::path::Path;

use bytes::Bytes;
use cht_core::{AudioPacket, DemuxItem, VideoPacket, CLOCK_HZ};

use crate::error::Fmp4Error;
use crate::movie::TrackKind;
use crate::samples::{Mp4Sample, Mp4Samples};

/// Pulls the items of an MP4 file: the codec parameters of its first video
/// and first audio track that cht can read (H.264, AAC), then their packets
/// in decode order with 90 kHz timestamps. Packets keep the file's own
/// layout (length-prefixed NAL units, raw AAC frames), as the parameters
/// say; nothing is converted back into a transport stream's framing.
///
/// Like [`Mp4Samples`], a `None` followed by more `next()` calls picks up
/// fragments appended since; an error ends the iteration.
pub struct Mp4Demuxer<R> {
    samples: Mp4Samples<R>,
    pending: VecDeque<DemuxItem>,
    video_track: Option<u32>,
    audio_track: Option<(u32, u32)>,
    bytes_read: u64,
}

impl Mp4Demuxer<File> {
    /// Opens a file on disk.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Fmp4Error> {
        Ok(Self::new(Mp4Samples::open(path)?))
    }
}

impl<R: Read + Seek> Mp4Demuxer<R> {
    /// Demuxes the samples of an opened file.
    pub fn new(samples: Mp4Samples<R>) -> Self {
        let mut pending = VecDeque::new();
        let video = samples.tracks().iter().find_map(|t| {
            let params = t.video_params.clone()?;
            Some((t.id, params))
        });
        let audio = samples.tracks().iter().find_map(|t| {
            let params = t.audio_params.clone()?;
            Some((t.id, params))
        });
        let video_track = video.map(|(id, params)| {
            pending.push_back(DemuxItem::VideoParams(params));
            id
        });
        let audio_track = audio.map(|(id, params)| {
            let frame_samples = params.frame_samples;
            pending.push_back(DemuxItem::AudioParams(params));
            (id, frame_samples)
        });
        Mp4Demuxer {
            samples,
            pending,
            video_track,
            audio_track,
            bytes_read: 0,
        }
    }

    /// How far into the file the samples returned so far reach, in bytes.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The item of a sample of a followed track.
    fn item(&self, sample: Mp4Sample) -> Option<DemuxItem> {
        let pts = to_90k(sample.pts, sample.timescale);
        match sample.kind {
            TrackKind::Video if Some(sample.track_id) == self.video_track => {
                Some(DemuxItem::Video(VideoPacket {
                    pts,
                    dts: to_90k(sample.dts, sample.timescale),
                    keyframe: sample.keyframe,
                    damaged: false,
                    data: Bytes::from(sample.data),
                }))
            }
            TrackKind::Audio => {
                let (_, samples) = self.audio_track.filter(|(id, _)| *id == sample.track_id)?;
                Some(DemuxItem::Audio(AudioPacket {
                    pts,
                    samples,
                    data: Bytes::from(sample.data),
                }))
            }
            _ => None,
        }
    }
}

fn to_90k(t: i64, timescale: u32) -> i64 {
    (t as i128 * CLOCK_HZ as i128 / timescale.max(1) as i128) as i64
}

impl<R: Read + Seek> Iterator for Mp4Demuxer<R> {
    type Item = Result<DemuxItem, Fmp4Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(item) = self.pending.pop_front() {
            return Some(Ok(item));
        }
        loop {
            let sample = match self.samples.next()? {
                Ok(s) => s,
                Err(e) => return Some(Err(e)),
            };
            self.bytes_read = self
                .bytes_read
                .max(sample.offset + sample.data.len() as u64);
            if let Some(item) = self.item(sample) {
                return Some(Ok(item));
            }
        }
    }
}
