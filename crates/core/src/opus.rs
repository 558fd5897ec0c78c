//! Opus: the MPEG-TS framing (ETSI TS 102 366 annex, as ffmpeg writes it:
//! a control header before each access unit, and the channel configuration
//! in the PMT's extension descriptor), packet durations from the TOC byte,
//! and the `dOps` payload of MP4's `Opus` sample entry (the OpusHead
//! fields, big-endian).

use bytes::Bytes;

use crate::params::{AudioCodec, AudioParams};

/// Opus always runs at 48 kHz (what MP4's `Opus` entry declares).
pub const SAMPLE_RATE: u32 = 48_000;

/// The channel layout of an Opus stream (OpusHead's mapping fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpusConfig {
    /// Output channels.
    pub channels: u8,
    /// Samples (48 kHz) to drop at the start.
    pub pre_skip: u16,
    /// 0: mono/stereo; 1: Vorbis channel order, up to 8 channels.
    pub mapping_family: u8,
    /// Opus streams in each packet (family 1).
    pub streams: u8,
    /// Of which coupled (stereo) streams.
    pub coupled: u8,
    /// Output channel → decoded channel (family 1).
    pub mapping: Vec<u8>,
}

/// Streams, coupled streams and mapping by channel count (1..=8), as
/// ETSI TS 102 366 defines the defaults for MPEG-TS.
const DEFAULT_MAPPINGS: [(u8, u8, &[u8]); 8] = [
    (1, 0, &[0]),
    (1, 1, &[0, 1]),
    (2, 1, &[0, 2, 1]),
    (2, 2, &[0, 1, 2, 3]),
    (3, 2, &[0, 4, 1, 2, 3]),
    (4, 2, &[0, 4, 1, 2, 3, 5]),
    (4, 3, &[0, 4, 1, 2, 3, 5, 6]),
    (5, 3, &[0, 6, 1, 2, 3, 4, 5, 7]),
];

impl OpusConfig {
    /// The default layout for `channels` (1..=8; anything else: stereo).
    pub fn for_channels(channels: u8, pre_skip: u16) -> OpusConfig {
        let channels = if (1..=8).contains(&channels) {
            channels
        } else {
            2
        };
        let (streams, coupled, mapping) = DEFAULT_MAPPINGS[usize::from(channels) - 1];
        OpusConfig {
            channels,
            pre_skip,
            mapping_family: u8::from(channels > 2),
            streams,
            coupled,
            mapping: if channels > 2 {
                mapping.to_vec()
            } else {
                Vec::new()
            },
        }
    }

    /// The channel count a PMT's Opus extension descriptor gives
    /// (`channel_config_code`; 0 is dual mono, two channels). `None` for
    /// codes with an explicit mapping, which cht does not read.
    pub fn channels_from_descriptor(channel_config_code: u8) -> Option<u8> {
        match channel_config_code {
            0 => Some(2),
            c @ 1..=8 => Some(c),
            _ => None,
        }
    }

    /// The `dOps` payload.
    pub fn dops(&self) -> Vec<u8> {
        let mut out = vec![0, self.channels];
        out.extend_from_slice(&self.pre_skip.to_be_bytes());
        out.extend_from_slice(&SAMPLE_RATE.to_be_bytes());
        out.extend_from_slice(&0i16.to_be_bytes());
        out.push(self.mapping_family);
        if self.mapping_family != 0 {
            out.push(self.streams);
            out.push(self.coupled);
            out.extend_from_slice(&self.mapping);
        }
        out
    }

    /// Reads a `dOps` payload.
    pub fn from_dops(dops: &[u8]) -> Option<OpusConfig> {
        let channels = *dops.get(1)?;
        let pre_skip = u16::from_be_bytes([*dops.get(2)?, *dops.get(3)?]);
        let mapping_family = *dops.get(10)?;
        let mut config = OpusConfig {
            channels,
            pre_skip,
            mapping_family,
            streams: 1,
            coupled: u8::from(channels > 1),
            mapping: Vec::new(),
        };
        if mapping_family != 0 {
            config.streams = *dops.get(11)?;
            config.coupled = *dops.get(12)?;
            config.mapping = dops.get(13..13 + usize::from(channels))?.to_vec();
        }
        (channels > 0).then_some(config)
    }

    /// The codec parameters of a track with this layout (track 0); the
    /// extra data is the `dOps` payload.
    pub fn audio_params(&self, frame_samples: u32) -> AudioParams {
        AudioParams {
            track: 0,
            codec: AudioCodec::Opus,
            sample_rate: SAMPLE_RATE,
            channels: u16::from(self.channels),
            frame_samples,
            extra_data: Bytes::from(self.dops()),
        }
    }
}

/// Samples (at 48 kHz) an Opus packet codes, from its TOC byte and frame
/// count (RFC 6716, 3.1). `None` for an empty or malformed packet.
pub fn packet_samples(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    // Frame duration in 1/400 s units times 48000/400 = 120 samples.
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config & 3)],
        12..=15 => [480, 960][usize::from(config & 1)],
        _ => [120, 240, 480, 960][usize::from(config & 3)],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => u32::from(*packet.get(1)? & 0x3f),
    };
    let samples = frame * frames;
    (frames > 0 && samples <= 5760).then_some(samples)
}

/// The control header MPEG-TS puts before each Opus access unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlHeader {
    /// Bytes of the header.
    pub header_len: usize,
    /// Bytes of the access unit after it.
    pub au_size: usize,
    /// Samples to drop at the start of this access unit.
    pub start_trim: u16,
    /// Samples to drop at its end.
    pub end_trim: u16,
}

/// Why bytes are not a control header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ControlHeaderError {
    /// More bytes are needed.
    #[error("need more bytes for an Opus control header")]
    Incomplete,
    /// No `0x7FE` prefix.
    #[error("no Opus control header prefix")]
    NoSync,
}

impl ControlHeader {
    /// Bytes needed to tell whether a header starts here.
    pub const MIN_LEN: usize = 2;

    /// Parses the control header at the start of `data`.
    pub fn parse(data: &[u8]) -> Result<ControlHeader, ControlHeaderError> {
        if data.len() < 2 {
            return Err(ControlHeaderError::Incomplete);
        }
        if data[0] != 0x7f || data[1] & 0xe0 != 0xe0 {
            return Err(ControlHeaderError::NoSync);
        }
        let (start_trim_flag, end_trim_flag, extension) = (
            data[1] & 0x10 != 0,
            data[1] & 0x08 != 0,
            data[1] & 0x04 != 0,
        );
        let mut pos = 2;
        let mut au_size = 0;
        loop {
            let b = *data.get(pos).ok_or(ControlHeaderError::Incomplete)?;
            pos += 1;
            au_size += usize::from(b);
            if b != 0xff {
                break;
            }
        }
        let mut trim = |flag: bool| -> Result<u16, ControlHeaderError> {
            if !flag {
                return Ok(0);
            }
            let v = data
                .get(pos..pos + 2)
                .ok_or(ControlHeaderError::Incomplete)?;
            pos += 2;
            Ok(u16::from_be_bytes([v[0], v[1]]) & 0x1fff)
        };
        let start_trim = trim(start_trim_flag)?;
        let end_trim = trim(end_trim_flag)?;
        if extension {
            let len = *data.get(pos).ok_or(ControlHeaderError::Incomplete)?;
            pos += 1 + usize::from(len);
        }
        Ok(ControlHeader {
            header_len: pos,
            au_size,
            start_trim,
            end_trim,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_headers_with_long_sizes_and_trims() {
        let h = ControlHeader::parse(&[0x7f, 0xf0, 0xff, 0x05, 0x01, 0x38]).unwrap();
        assert_eq!(
            (h.header_len, h.au_size, h.start_trim, h.end_trim),
            (6, 260, 312, 0)
        );
        let plain = ControlHeader::parse(&[0x7f, 0xe0, 0x20]).unwrap();
        assert_eq!((plain.header_len, plain.au_size), (3, 32));
        assert_eq!(
            ControlHeader::parse(&[0x7f, 0xe0, 0xff]),
            Err(ControlHeaderError::Incomplete)
        );
        assert_eq!(
            ControlHeader::parse(&[0x0b, 0x77]),
            Err(ControlHeaderError::NoSync)
        );
    }

    #[test]
    fn toc_durations() {
        assert_eq!(packet_samples(&[0xfc]), Some(960), "CELT 20 ms, one frame");
        assert_eq!(packet_samples(&[0xf8 | 1]), Some(1920), "two 20 ms frames");
        assert_eq!(
            packet_samples(&[0x0b, 0x03]),
            Some(2880),
            "three 20 ms SILK frames"
        );
        assert_eq!(
            packet_samples(&[0x1b, 0x3f]),
            None,
            "63 x 60 ms is over 120 ms"
        );
        assert_eq!(packet_samples(&[0x03, 0x02]), Some(960));
        assert_eq!(packet_samples(&[]), None);
    }

    #[test]
    fn dops_round_trips() {
        let stereo = OpusConfig::for_channels(2, 312);
        assert_eq!(stereo.dops(), [0, 2, 1, 0x38, 0, 0, 0xbb, 0x80, 0, 0, 0]);
        assert_eq!(OpusConfig::from_dops(&stereo.dops()), Some(stereo));
        let surround = OpusConfig::for_channels(6, 0);
        assert_eq!(surround.dops().len(), 11 + 2 + 6);
        assert_eq!(OpusConfig::from_dops(&surround.dops()), Some(surround));
        assert_eq!(OpusConfig::channels_from_descriptor(0x81), None);
    }
}
