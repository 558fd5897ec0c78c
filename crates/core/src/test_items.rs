//! Synthetic demux items for the gates' unit tests.

use crate::item::DemuxItem;
use crate::packet::{AudioPacket, VideoPacket};
use crate::params::{AudioCodec, AudioParams, PacketFormat, VideoCodec, VideoParams};

/// One frame at 30 fps (90 kHz).
pub(crate) const FRAME: i64 = 3000;
/// One AAC frame, 1024 samples at 48 kHz (90 kHz).
pub(crate) const AAC: i64 = 1920;

pub(crate) fn video_params() -> DemuxItem {
    DemuxItem::VideoParams(VideoParams {
        codec: VideoCodec::H264,
        width: 64,
        height: 64,
        format: PacketFormat::Elementary,
        extra_data: Default::default(),
    })
}

/// AAC stereo on track 0 at `rate`.
pub(crate) fn audio_params_at(rate: u32) -> DemuxItem {
    DemuxItem::AudioParams(AudioParams {
        track: 0,
        codec: AudioCodec::Aac,
        sample_rate: rate,
        channels: 2,
        frame_samples: 1024,
        extra_data: Default::default(),
    })
}

pub(crate) fn video(pts: i64, keyframe: bool) -> DemuxItem {
    DemuxItem::Video(VideoPacket {
        pts,
        dts: pts,
        keyframe,
        damaged: false,
        data: vec![0; 100].into(),
    })
}

pub(crate) fn audio(pts: i64) -> DemuxItem {
    DemuxItem::Audio(AudioPacket {
        track: 0,
        pts,
        samples: 1024,
        data: vec![0; 10].into(),
    })
}
