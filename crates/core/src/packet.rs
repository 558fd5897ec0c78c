//! Compressed media as demuxers hand it out, one packet at a time.

use bytes::Bytes;

/// One coded picture (an access unit), in decode order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoPacket {
    /// Presentation time, 90 kHz, unwrapped.
    pub pts: i64,
    /// Decode time, 90 kHz, unwrapped (equal to `pts` when the source had none).
    pub dts: i64,
    /// Can be decoded without earlier packets (an IDR picture for H.264).
    pub keyframe: bool,
    /// Some of the packet's bytes were lost in transport: recorders may keep
    /// it, decoders should expect garbage.
    pub damaged: bool,
    /// The coded bytes, laid out as the track's
    /// [`PacketFormat`](crate::PacketFormat) says.
    pub data: Bytes,
}

/// One coded audio frame, without any transport framing: an AAC packet is
/// the raw frame (its ADTS header or LATM wrapping removed), an Opus packet
/// has no TS control header; MPEG audio and AC-3 frames are whole, header
/// included, as MP4 stores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioPacket {
    /// The audio track it belongs to ([`AudioParams::track`](crate::AudioParams::track)).
    pub track: u8,
    /// Presentation time, 90 kHz, unwrapped.
    pub pts: i64,
    /// Samples per channel the packet codes: the track's
    /// [`frame_samples`](crate::AudioParams::frame_samples), or a multiple of
    /// it when the transport packed several frames together (an ADTS frame
    /// with several raw data blocks).
    pub samples: u32,
    /// The coded bytes.
    pub data: Bytes,
}
