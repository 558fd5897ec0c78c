//! MPEG-2 (and MPEG-1) video's parameter-set parser: the sequence header
//! and its extension (size, profile and level, chroma format), which MP4
//! keeps in the `esds` of an `mp4v` sample entry, and the picture coding
//! type (I pictures are keyframes).
//!
//! A packet is one coded picture as the elementary stream carries it,
//! start codes included; MP4 stores it as it is.

use std::ops::Range;

use bytes::Bytes;

use crate::params::{PacketFormat, VideoCodec, VideoParams};

/// Start code values (the byte after `00 00 01`).
pub mod start_code {
    /// Picture header.
    pub const PICTURE: u8 = 0x00;
    /// Sequence header.
    pub const SEQUENCE_HEADER: u8 = 0xb3;
    /// Extension (sequence, picture coding, display...).
    pub const EXTENSION: u8 = 0xb5;
    /// Group of pictures header.
    pub const GROUP: u8 = 0xb8;
}

/// What the sequence header and its extension say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequenceHeader {
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// `profile_and_level_indication` of the sequence extension; `None`
    /// for MPEG-1 video (no extension).
    pub profile_and_level: Option<u8>,
    /// 1 4:2:0, 2 4:2:2, 3 4:4:4.
    pub chroma_format: u8,
}

impl SequenceHeader {
    /// Parses the sequence header at the start of `data` (`00 00 01 B3`)
    /// and the sequence extension after it, if any.
    pub fn parse(data: &[u8]) -> Option<SequenceHeader> {
        if data.get(..4)? != [0, 0, 1, start_code::SEQUENCE_HEADER] {
            return None;
        }
        let b = data.get(4..8)?;
        let mut width = (u32::from(b[0]) << 4) | u32::from(b[1] >> 4);
        let mut height = (u32::from(b[1] & 0x0f) << 8) | u32::from(b[2]);
        let mut header = SequenceHeader {
            width,
            height,
            profile_and_level: None,
            chroma_format: 1,
        };
        let ext = start_codes(data, 4)
            .take_while(|&(code, _)| code == start_code::EXTENSION)
            .map(|(_, at)| &data[at..])
            .find(|e| e.first().is_some_and(|b| b >> 4 == 1));
        if let Some(ext) = ext {
            let e = ext.get(..6)?;
            header.profile_and_level = Some((e[0] << 4) | (e[1] >> 4));
            header.chroma_format = (e[1] >> 1) & 3;
            width |= ((u32::from(e[1]) & 1) << 13) | (u32::from(e[2] >> 7) << 12);
            height |= u32::from((e[2] >> 5) & 3) << 12;
            header.width = width;
            header.height = height;
        }
        (header.width > 0 && header.height > 0).then_some(header)
    }

    /// The MPEG-4 systems `objectTypeIndication` MP4 uses for the stream:
    /// 0x60..=0x65 by MPEG-2 profile (0x61 Main), 0x6A for MPEG-1 video.
    pub fn object_type(&self) -> u8 {
        let Some(pl) = self.profile_and_level else {
            return 0x6a;
        };
        if pl & 0x80 != 0 {
            // Escaped: 4:2:2 (0x82, 0x85) or multiview profiles.
            return if matches!(pl, 0x82 | 0x85) {
                0x65
            } else {
                0x61
            };
        }
        match (pl >> 4) & 7 {
            5 => 0x60, // Simple
            3 => 0x62, // SNR
            2 => 0x63, // Spatial
            1 => 0x64, // High
            _ => 0x61, // Main
        }
    }

    /// The RFC 6381 codec string (`mp4v.61`).
    pub fn codec_string(&self) -> String {
        format!("mp4v.{:x}", self.object_type())
    }

    /// The profile's name as ffprobe spells it.
    pub fn profile_name(&self) -> &'static str {
        match self.object_type() {
            0x60 => "Simple",
            0x61 => "Main",
            0x62 => "SNR Scalable",
            0x63 => "Spatially Scalable",
            0x64 => "High",
            0x65 => "4:2:2",
            _ => "MPEG-1",
        }
    }
}

/// What the start of a packet holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PictureHead {
    /// The sequence header and its extensions, up to the next other start
    /// code: what MP4 keeps as the decoder configuration.
    pub sequence: Option<Range<usize>>,
    /// `picture_coding_type` of the first picture (1 I, 2 P, 3 B).
    pub picture_type: Option<u8>,
}

impl PictureHead {
    /// Scans the headers of a packet up to its first picture header.
    pub fn scan(data: &[u8]) -> PictureHead {
        let mut head = PictureHead::default();
        let mut codes = start_codes(data, 0).peekable();
        while let Some((code, at)) = codes.next() {
            match code {
                start_code::SEQUENCE_HEADER => {
                    let mut end = data.len();
                    while let Some(&(next, next_at)) = codes.peek() {
                        if next != start_code::EXTENSION {
                            end = next_at - 4;
                            break;
                        }
                        codes.next();
                    }
                    head.sequence.get_or_insert(at - 4..end);
                }
                start_code::PICTURE => {
                    head.picture_type = data.get(at + 1).map(|b| (b >> 3) & 7);
                    break;
                }
                _ => {}
            }
        }
        head
    }

    /// An I picture: decodable on its own, a sync sample.
    pub fn is_keyframe(&self) -> bool {
        self.picture_type == Some(1)
    }
}

/// The codec parameters of a track whose decoder configuration is
/// `sequence` (the sequence header and its extensions).
pub fn video_params(sequence: Bytes) -> Option<VideoParams> {
    let header = SequenceHeader::parse(&sequence)?;
    Some(VideoParams {
        codec: VideoCodec::Mpeg2Video,
        width: header.width,
        height: header.height,
        format: PacketFormat::Elementary,
        extra_data: sequence,
    })
}

/// (start code value, index of the byte after it) of each `00 00 01 xx`.
fn start_codes(data: &[u8], from: usize) -> impl Iterator<Item = (u8, usize)> + '_ {
    let mut i = from;
    std::iter::from_fn(move || {
        while let Some(offset) = data.get(i..).and_then(|rest| memchr::memchr(1, rest)) {
            let one = i + offset;
            i = one + 1;
            if one >= 2 && data[one - 1] == 0 && data[one - 2] == 0 {
                let code = *data.get(one + 1)?;
                i = one + 2;
                return Some((code, one + 2));
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head of ffmpeg's first MPEG-2 picture (320x240, Main profile).
    const I_PICTURE: &[u8] = &[
        0, 0, 1, 0xb3, 0x14, 0x00, 0xf0, 0x23, 0xff, 0xff, 0xe0, 0x18, 0, 0, 1, 0xb5, 0x14, 0x8a,
        0x00, 0x01, 0x00, 0x00, 0, 0, 1, 0xb8, 0x00, 0x08, 0x00, 0x40, 0, 0, 1, 0x00, 0x00, 0x0f,
        0xff, 0xf8, 0, 0, 1, 0xb5, 0x8f, 0xff, 0xf3, 0x41, 0x80, 0, 0, 1, 0x01, 0x23,
    ];

    #[test]
    fn reads_sequence_and_picture_headers() {
        let head = PictureHead::scan(I_PICTURE);
        assert!(head.is_keyframe());
        let sequence = head.sequence.clone().expect("a sequence header");
        assert_eq!(sequence, 0..22);
        let params = video_params(Bytes::copy_from_slice(&I_PICTURE[sequence])).unwrap();
        assert_eq!((params.width, params.height), (320, 240));
        assert_eq!(params.codec_string(), "mp4v.61");
        let header = SequenceHeader::parse(&params.extra_data).unwrap();
        assert_eq!(
            (header.profile_and_level, header.chroma_format),
            (Some(0x48), 1)
        );
        assert_eq!(header.profile_name(), "Main");
    }

    #[test]
    fn p_pictures_and_mpeg1_headers() {
        let p = [0, 0, 1, 0x00, 0x00, 0x50, 0, 0, 1, 0x01, 9];
        let head = PictureHead::scan(&p);
        assert_eq!((head.picture_type, head.sequence), (Some(2), None));
        let mpeg1 = SequenceHeader::parse(&I_PICTURE[..12]).unwrap();
        assert_eq!((mpeg1.object_type(), mpeg1.profile_and_level), (0x6a, None));
        assert_eq!(SequenceHeader::parse(&[0, 0, 1, 0xb3, 0, 0]), None);
        assert_eq!(PictureHead::scan(&[1, 2, 3]), PictureHead::default());
    }
}
