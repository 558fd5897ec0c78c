//! What each elementary stream of a PMT is: a video or audio codec cht
//! records (and how its packets are framed), or something it names and
//! leaves alone. Decided by the stream type and, for private data (0x06),
//! the descriptors (registration, DVB AC-3/E-AC-3, Opus extension); private
//! data without a telling descriptor is audio whose framing the first
//! packet tells (M2TS muxers label AAC that way).

use cht_core::{AudioCodec, VideoCodec};

use crate::psi::EsInfo;

/// How an audio stream's elementary stream is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AudioFraming {
    /// AAC in ADTS frames.
    Adts,
    /// AAC in LATM, in LOAS sync frames.
    Loas,
    /// MPEG audio frames (layer I, II or III).
    Mpeg,
    /// AC-3 or E-AC-3 sync frames.
    Ac3,
    /// Opus access units behind control headers; the channel count from
    /// the PMT's extension descriptor, when it has one.
    Opus { channels: Option<u8> },
    /// Unknown until the first bytes: one of the above, found by its sync.
    Probe,
}

impl AudioFraming {
    /// The codec, when the framing names it.
    pub fn codec(self) -> Option<AudioCodec> {
        match self {
            AudioFraming::Adts | AudioFraming::Loas => Some(AudioCodec::Aac),
            AudioFraming::Opus { .. } => Some(AudioCodec::Opus),
            AudioFraming::Mpeg | AudioFraming::Ac3 | AudioFraming::Probe => None,
        }
    }
}

/// What a stream is to cht.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StreamKind {
    Video(VideoCodec),
    Audio(AudioFraming),
    /// Not recorded: what it is, and the sender's fix if there is one.
    Other {
        what: String,
        fix: Option<String>,
    },
}

const REGISTRATION: u8 = 0x05;
const DVB_AC3: u8 = 0x6a;
const DVB_EAC3: u8 = 0x7a;
const DVB_DTS: u8 = 0x7b;
const DVB_EXTENSION: u8 = 0x7f;
const DVB_SUBTITLING: u8 = 0x59;
const DVB_TELETEXT: u8 = 0x56;
const EXTENSION_OPUS: u8 = 0x80;

/// The fix for an audio stream cht cannot record.
pub(crate) const SEND_AAC: &str = "have the sender encode AAC (`-c:a aac`)";
/// The fix for a video stream cht cannot record.
pub(crate) const SEND_H264: &str = "have the sender encode H.264 (`-c:v libx264 -pix_fmt yuv420p`)";

impl StreamKind {
    pub fn of(es: &EsInfo) -> StreamKind {
        let other_audio = |name: &str| StreamKind::Other {
            what: format!("{name} audio (stream type {:#04x})", es.stream_type),
            fix: Some(SEND_AAC.into()),
        };
        let other_video = |name: &str| StreamKind::Other {
            what: format!("{name} video (stream type {:#04x})", es.stream_type),
            fix: Some(SEND_H264.into()),
        };
        let data = |name: &str| StreamKind::Other {
            what: format!("{name} (stream type {:#04x})", es.stream_type),
            fix: None,
        };
        match es.stream_type {
            0x1b => StreamKind::Video(VideoCodec::H264),
            0x24 => StreamKind::Video(VideoCodec::Hevc),
            0x01 | 0x02 => StreamKind::Video(VideoCodec::Mpeg2Video),
            0x0f => StreamKind::Audio(AudioFraming::Adts),
            0x11 => StreamKind::Audio(AudioFraming::Loas),
            0x03 | 0x04 => StreamKind::Audio(AudioFraming::Mpeg),
            0x81 | 0x84 | 0x87 => StreamKind::Audio(AudioFraming::Ac3),
            0x06 => private_data(es),
            0x10 => other_video("MPEG-4 part 2"),
            0x20 => other_video("H.264 MVC"),
            0x33 => other_video("H.266/VVC"),
            0x42 => other_video("AVS"),
            0xd1 => other_video("Dirac"),
            0xea => other_video("VC-1"),
            0x1c => other_audio("MPEG-4 (raw)"),
            0x80 => other_audio("LPCM"),
            0x82 | 0x85 | 0x8a => other_audio("DTS"),
            0x83 => other_audio("Dolby TrueHD"),
            0x86 => data("SCTE-35 cues"),
            0x15 => data("timed metadata"),
            0x05 | 0x0b..=0x0d => data("DSM-CC data"),
            0x90..=0x92 => data("Blu-ray graphics"),
            other => StreamKind::Other {
                what: format!("a stream of type {other:#04x}"),
                fix: None,
            },
        }
    }
}

/// Stream type 0x06: PES private data, told apart by its descriptors.
fn private_data(es: &EsInfo) -> StreamKind {
    let registration = es.descriptor(REGISTRATION).and_then(|d| d.get(..4));
    match registration {
        Some(b"AC-3") | Some(b"EAC3") => return StreamKind::Audio(AudioFraming::Ac3),
        Some(b"Opus") => return StreamKind::Audio(opus(es)),
        Some(b"HEVC") => return StreamKind::Video(VideoCodec::Hevc),
        Some(b"BSSD") => {
            return StreamKind::Other {
                what: "SMPTE 302M PCM audio (stream type 0x06)".into(),
                fix: Some(SEND_AAC.into()),
            }
        }
        Some(b"KLVA") => {
            return StreamKind::Other {
                what: "KLV metadata (stream type 0x06)".into(),
                fix: None,
            }
        }
        _ => {}
    }
    if es.descriptor(DVB_AC3).is_some() || es.descriptor(DVB_EAC3).is_some() {
        return StreamKind::Audio(AudioFraming::Ac3);
    }
    if es
        .descriptor(DVB_EXTENSION)
        .is_some_and(|d| d.first() == Some(&EXTENSION_OPUS))
    {
        return StreamKind::Audio(opus(es));
    }
    let named = [
        (DVB_DTS, "DTS audio", Some(SEND_AAC)),
        (DVB_SUBTITLING, "DVB subtitles", None),
        (DVB_TELETEXT, "teletext", None),
    ];
    for (tag, what, fix) in named {
        if es.descriptor(tag).is_some() {
            return StreamKind::Other {
                what: format!("{what} (stream type 0x06)"),
                fix: fix.map(str::to_string),
            };
        }
    }
    StreamKind::Audio(AudioFraming::Probe)
}

fn opus(es: &EsInfo) -> AudioFraming {
    let channels = es
        .descriptor(DVB_EXTENSION)
        .filter(|d| d.first() == Some(&EXTENSION_OPUS))
        .and_then(|d| d.get(1))
        .and_then(|&code| cht_core::opus::OpusConfig::channels_from_descriptor(code));
    AudioFraming::Opus { channels }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn es(stream_type: u8, descriptors: &[(u8, &[u8])]) -> EsInfo {
        EsInfo {
            stream_type,
            pid: 0x101,
            descriptors: descriptors.iter().map(|(t, d)| (*t, d.to_vec())).collect(),
        }
    }

    #[test]
    fn what_ffmpeg_and_gstreamer_send() {
        assert_eq!(
            StreamKind::of(&es(0x24, &[])),
            StreamKind::Video(VideoCodec::Hevc)
        );
        assert_eq!(
            StreamKind::of(&es(0x02, &[])),
            StreamKind::Video(VideoCodec::Mpeg2Video)
        );
        assert_eq!(
            StreamKind::of(&es(0x03, &[])),
            StreamKind::Audio(AudioFraming::Mpeg)
        );
        assert_eq!(
            StreamKind::of(&es(0x11, &[])),
            StreamKind::Audio(AudioFraming::Loas)
        );
        let ac3 = es(0x81, &[(REGISTRATION, b"AC-3")]);
        assert_eq!(StreamKind::of(&ac3), StreamKind::Audio(AudioFraming::Ac3));
        let opus = es(
            0x06,
            &[(REGISTRATION, b"Opus"), (DVB_EXTENSION, &[0x80, 0x01])],
        );
        assert_eq!(
            StreamKind::of(&opus),
            StreamKind::Audio(AudioFraming::Opus { channels: Some(1) })
        );
        assert_eq!(
            StreamKind::of(&es(0x06, &[])),
            StreamKind::Audio(AudioFraming::Probe)
        );
    }

    #[test]
    fn what_is_not_recorded_is_named_with_the_fix() {
        let StreamKind::Other { what, fix } = StreamKind::of(&es(0x82, &[])) else {
            panic!("DTS is not recorded");
        };
        assert_eq!(what, "DTS audio (stream type 0x82)");
        assert_eq!(fix.as_deref(), Some(SEND_AAC));
        let StreamKind::Other { fix, .. } = StreamKind::of(&es(0x06, &[(DVB_SUBTITLING, b"")]))
        else {
            panic!("subtitles are not recorded");
        };
        assert_eq!(fix, None);
    }
}
