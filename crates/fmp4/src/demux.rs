//! An MP4 file as [`DemuxItem`]s: the same items the TS demuxer produces, so
//! every stage reads a recording like a live stream.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek};
use std::path::Path;

use bytes::Bytes;
use cht_core::{
    AnnouncedAudio, AudioCodec, AudioPacket, AudioParams, DemuxItem, IgnoredStream, TrackList,
    VideoPacket, CLOCK_HZ,
};

use crate::error::Fmp4Error;
use crate::movie::TrackKind;
use crate::samples::{Mp4Sample, Mp4Samples};

/// Pulls the items of an MP4 file: the track list, the codec parameters of
/// its first video track and of every audio track that cht can read, then
/// their packets in decode order with 90 kHz timestamps. Packets keep the
/// file's own layout (length-prefixed NAL units, raw AAC frames, whole
/// MPEG audio and AC-3 frames, Opus packets), as the parameters say;
/// nothing is converted back into a transport stream's framing.
///
/// Like [`Mp4Samples`], a `None` followed by more `next()` calls picks up
/// fragments appended since; an error ends the iteration.
pub struct Mp4Demuxer<R> {
    samples: Mp4Samples<R>,
    pending: VecDeque<DemuxItem>,
    video_track: Option<u32>,
    audio_tracks: Vec<AudioTrack>,
    bytes_read: u64,
}

/// An audio track followed: its MP4 track ID, cht track number and
/// parameters.
struct AudioTrack {
    id: u32,
    params: AudioParams,
    /// MPEG audio: the parameters wait for the first frame's header, which
    /// tells the layer (MP1, MP2 or MP3).
    announced: bool,
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
        let mut list = TrackList::default();
        let mut video = None;
        let mut audio_tracks: Vec<AudioTrack> = Vec::new();
        for t in samples.tracks() {
            match (&t.video_params, &t.audio_params) {
                (Some(params), _) if video.is_none() => {
                    list.video = Some(params.codec);
                    video = Some((t.id, params.clone()));
                }
                (_, Some(params)) if audio_tracks.len() < usize::from(u8::MAX) => {
                    let track = audio_tracks.len() as u8;
                    list.audio.push(AnnouncedAudio {
                        track,
                        codec: Some(params.codec),
                    });
                    let is_mpeg = matches!(
                        params.codec,
                        AudioCodec::Mp1 | AudioCodec::Mp2 | AudioCodec::Mp3
                    );
                    audio_tracks.push(AudioTrack {
                        id: t.id,
                        params: params.clone().on_track(track),
                        announced: !is_mpeg,
                    });
                }
                _ if matches!(t.kind, TrackKind::Video | TrackKind::Audio) => {
                    list.ignored.push(IgnoredStream {
                        id: t.id,
                        what: format!("track {} ({})", t.id, t.codec),
                        fix: None,
                    })
                }
                _ => {}
            }
        }
        let mut pending = VecDeque::from([DemuxItem::Tracks(list)]);
        let video_track = video.map(|(id, params)| {
            pending.push_back(DemuxItem::VideoParams(params));
            id
        });
        for a in audio_tracks.iter().filter(|a| a.announced) {
            pending.push_back(DemuxItem::AudioParams(a.params.clone()));
        }
        Mp4Demuxer {
            samples,
            pending,
            video_track,
            audio_tracks,
            bytes_read: 0,
        }
    }

    /// How far into the file the samples returned so far reach, in bytes.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The items of a sample of a followed track (its parameters first,
    /// when they wait for it).
    fn items(&mut self, sample: Mp4Sample) {
        let pts = to_90k(sample.pts, sample.timescale);
        match sample.kind {
            TrackKind::Video if Some(sample.track_id) == self.video_track => {
                self.pending.push_back(DemuxItem::Video(VideoPacket {
                    pts,
                    dts: to_90k(sample.dts, sample.timescale),
                    keyframe: sample.keyframe,
                    damaged: false,
                    data: Bytes::from(sample.data),
                }));
            }
            TrackKind::Audio => {
                let Some(track) = self
                    .audio_tracks
                    .iter_mut()
                    .find(|a| a.id == sample.track_id)
                else {
                    return;
                };
                if !track.announced {
                    track.announced = true;
                    if let Ok(header) = cht_core::mpa::MpaHeader::parse(&sample.data) {
                        track.params = AudioParams {
                            track: track.params.track,
                            ..header.audio_params()
                        };
                    }
                    self.pending
                        .push_back(DemuxItem::AudioParams(track.params.clone()));
                }
                let samples = match track.params.codec {
                    AudioCodec::Opus => cht_core::opus::packet_samples(&sample.data).unwrap_or(960),
                    _ => track.params.frame_samples,
                };
                self.pending.push_back(DemuxItem::Audio(AudioPacket {
                    track: track.params.track,
                    pts,
                    samples,
                    data: Bytes::from(sample.data),
                }));
            }
            _ => {}
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
            self.items(sample);
            if let Some(item) = self.pending.pop_front() {
                return Some(Ok(item));
            }
        }
    }
}
