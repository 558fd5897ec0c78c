//! Codecs and codec parameters: what a muxer or a decoder must know about a
//! track before its first packet, in the same shape whatever the container.

use std::fmt;

use bytes::Bytes;
use serde::Serialize;

/// The video codecs cht records. Each has an MP4 sample entry; only H.264
/// has a decoder (scene frames), the others are refused for analysis by
/// name, with the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoCodec {
    /// H.264 / AVC.
    H264,
    /// H.265 / HEVC.
    Hevc,
    /// MPEG-2 video (ffmpeg's default for `-f mpegts` without codec
    /// options), and MPEG-1 video, which the same parser reads.
    Mpeg2Video,
}

impl VideoCodec {
    /// The name people know it by.
    pub fn name(self) -> &'static str {
        match self {
            VideoCodec::H264 => "H.264",
            VideoCodec::Hevc => "HEVC",
            VideoCodec::Mpeg2Video => "MPEG-2 video",
        }
    }
}

impl fmt::Display for VideoCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The audio codecs cht records, each in its standard MP4 sample entry.
/// AAC and MPEG audio (MP1/MP2/MP3) are also decoded into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AudioCodec {
    /// MPEG-4 AAC.
    Aac,
    /// MPEG-1/2 Audio Layer II (ffmpeg's default for `-f mpegts`).
    Mp2,
    /// MPEG-1/2 Audio Layer III.
    Mp3,
    /// Dolby Digital.
    Ac3,
    /// Dolby Digital Plus.
    Eac3,
    /// Opus.
    Opus,
    /// MPEG-1/2 Audio Layer I.
    Mp1,
}

impl AudioCodec {
    /// The name people know it by.
    pub fn name(self) -> &'static str {
        match self {
            AudioCodec::Aac => "AAC",
            AudioCodec::Mp2 => "MP2",
            AudioCodec::Mp3 => "MP3",
            AudioCodec::Ac3 => "AC-3",
            AudioCodec::Eac3 => "E-AC-3",
            AudioCodec::Opus => "Opus",
            AudioCodec::Mp1 => "MP1",
        }
    }
}

impl fmt::Display for AudioCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How the bytes of a video packet are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PacketFormat {
    /// As sent in an elementary stream (MPEG-TS): for H.264 and HEVC,
    /// start-code delimited NAL units (Annex-B) with the parameter sets in
    /// band.
    Elementary,
    /// As MP4 stores H.264 and HEVC samples: each NAL unit preceded by its
    /// length in `length_size` bytes; the parameter sets are in
    /// [`VideoParams::extra_data`].
    LengthPrefixed {
        /// Bytes of each length prefix (1, 2 or 4).
        length_size: u8,
    },
}

/// Codec parameters of a video track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VideoParams {
    /// The codec.
    pub codec: VideoCodec,
    /// Display width in pixels.
    pub width: u32,
    /// Display height in pixels.
    pub height: u32,
    /// How the track's packets are laid out.
    pub format: PacketFormat,
    /// The codec's decoder configuration record, as the MP4 sample entry
    /// carries it: for H.264 the `avcC` AVCDecoderConfigurationRecord (see
    /// [`crate::h264::AvcDecoderConfig`]), for HEVC the `hvcC` record (see
    /// [`crate::hevc::HevcDecoderConfig`]), for MPEG-2 video the sequence
    /// header and its extension (see [`crate::mpeg2`]).
    #[serde(skip)]
    pub extra_data: Bytes,
}

impl VideoParams {
    /// The RFC 6381 codec string (`avc1.64001f`), or the codec's name when
    /// the configuration record cannot be read.
    pub fn codec_string(&self) -> String {
        match self.codec {
            VideoCodec::H264 => crate::h264::AvcDecoderConfig::parse(&self.extra_data)
                .map_or_else(|_| "avc1".to_string(), |c| c.codec_string()),
            VideoCodec::Hevc => crate::hevc::HevcDecoderConfig::parse(&self.extra_data)
                .map_or_else(|_| "hvc1".to_string(), |c| c.codec_string()),
            VideoCodec::Mpeg2Video => crate::mpeg2::SequenceHeader::parse(&self.extra_data)
                .map_or_else(|| "mp4v.61".to_string(), |s| s.codec_string()),
        }
    }
}

/// Codec parameters of an audio track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudioParams {
    /// Which of the source's audio tracks these are: 0 for the first, in
    /// the order the source lists them (the PMT, the MP4 `moov`); the same
    /// number as in the track's [`AudioPacket`](crate::AudioPacket)s.
    pub track: u8,
    /// The codec.
    pub codec: AudioCodec,
    /// Samples per second.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u16,
    /// Samples per channel in one packet (1024 for AAC).
    pub frame_samples: u32,
    /// The codec's decoder configuration, as the MP4 sample entry carries
    /// it: for AAC the AudioSpecificConfig (see [`crate::aac::AacConfig`]),
    /// for AC-3 the `dac3` payload (see [`crate::ac3`]), for Opus the `dOps`
    /// payload (see [`crate::opus`]); empty for MPEG audio, whose frames
    /// describe themselves.
    #[serde(skip)]
    pub extra_data: Bytes,
}

impl AudioParams {
    /// The same parameters for audio track `track`.
    pub fn on_track(self, track: u8) -> AudioParams {
        AudioParams { track, ..self }
    }

    /// Duration of one packet in 90 kHz ticks (fractional at 44.1 kHz).
    pub fn frame_duration_90k(&self) -> f64 {
        f64::from(self.frame_samples) * f64::from(crate::CLOCK_HZ)
            / f64::from(self.sample_rate.max(1))
    }
}
