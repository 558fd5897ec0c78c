//! AC-3 (Dolby Digital) and E-AC-3 (Dolby Digital Plus) sync frame
//! headers, and the `dac3` / `dec3` payloads MP4's `ac-3` and `ec-3`
//! sample entries carry (ETSI TS 102 366, annex F). Frames are stored
//! whole, one per sample.

use bytes::Bytes;

use crate::bits::BitWriter;
use crate::params::{AudioCodec, AudioParams};

/// A validated AC-3 or E-AC-3 sync frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ac3Header {
    /// AC-3 or E-AC-3.
    pub codec: AudioCodec,
    /// `fscod` (0 48 kHz, 1 44.1 kHz, 2 32 kHz; E-AC-3 3: half rates).
    pub fscod: u8,
    /// Samples per second.
    pub sample_rate: u32,
    /// `bsid` (8 and below: AC-3; 11..=16: E-AC-3).
    pub bsid: u8,
    /// `bsmod` (service type).
    pub bsmod: u8,
    /// `acmod` (channel layout without LFE).
    pub acmod: u8,
    /// LFE channel present.
    pub lfe: bool,
    /// AC-3: `frmsizecod`; E-AC-3: 0.
    pub frame_size_code: u8,
    /// E-AC-3 `strmtyp` (0 independent, 1 dependent, 2 AC-3 converted).
    pub stream_type: u8,
    /// E-AC-3 `substreamid`.
    pub substream_id: u8,
    /// Bytes of the whole frame.
    pub frame_len: usize,
    /// Samples per channel (1536 for AC-3; 256 per E-AC-3 block).
    pub samples: u32,
}

/// Why bytes are not an AC-3 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Ac3Error {
    /// Fewer bytes than the header needs.
    #[error("need more bytes for an AC-3 header")]
    Incomplete,
    /// No `0B 77` sync word.
    #[error("no AC-3 sync word")]
    NoSync,
    /// A reserved or impossible field.
    #[error("invalid AC-3 header: {0}")]
    Invalid(&'static str),
}

const BITRATES_KBPS: [u32; 19] = [
    32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640,
];
const RATES: [u32; 3] = [48000, 44100, 32000];
/// Full-bandwidth channels by `acmod`.
const CHANNELS: [u16; 8] = [2, 1, 2, 3, 3, 4, 4, 5];

impl Ac3Header {
    /// Bytes needed to read a header.
    pub const MIN_LEN: usize = 8;

    /// Parses and validates the header at the start of `data`.
    pub fn parse(data: &[u8]) -> Result<Ac3Header, Ac3Error> {
        if data.len() < 2 {
            return Err(Ac3Error::Incomplete);
        }
        if data[..2] != [0x0b, 0x77] {
            return Err(Ac3Error::NoSync);
        }
        if data.len() < Self::MIN_LEN {
            return Err(Ac3Error::Incomplete);
        }
        let bsid = data[5] >> 3;
        match bsid {
            0..=8 => Self::parse_ac3(data, bsid),
            11..=16 => Self::parse_eac3(data, bsid),
            _ => Err(Ac3Error::Invalid("unknown bsid")),
        }
    }

    fn parse_ac3(data: &[u8], bsid: u8) -> Result<Ac3Header, Ac3Error> {
        let fscod = data[4] >> 6;
        let frame_size_code = data[4] & 0x3f;
        let sample_rate = *RATES
            .get(usize::from(fscod))
            .ok_or(Ac3Error::Invalid("reserved sample rate"))?;
        let kbps = *BITRATES_KBPS
            .get(usize::from(frame_size_code >> 1))
            .ok_or(Ac3Error::Invalid("reserved frame size code"))?;
        let mut words = kbps * 1000 * 1536 / 16 / sample_rate;
        if fscod == 1 {
            words += u32::from(frame_size_code & 1);
        }
        let (acmod, lfe) = acmod_and_lfe(data[6]);
        Ok(Ac3Header {
            codec: AudioCodec::Ac3,
            fscod,
            sample_rate,
            bsid,
            bsmod: data[5] & 7,
            acmod,
            lfe,
            frame_size_code,
            stream_type: 0,
            substream_id: 0,
            frame_len: words as usize * 2,
            samples: 1536,
        })
    }

    fn parse_eac3(data: &[u8], bsid: u8) -> Result<Ac3Header, Ac3Error> {
        let stream_type = data[2] >> 6;
        let substream_id = (data[2] >> 3) & 7;
        let words = ((usize::from(data[2] & 7) << 8) | usize::from(data[3])) + 1;
        let fscod = data[4] >> 6;
        let (sample_rate, blocks) = if fscod == 3 {
            let half = *RATES
                .get(usize::from((data[4] >> 4) & 3))
                .ok_or(Ac3Error::Invalid("reserved sample rate"))?;
            (half / 2, 6)
        } else {
            (
                RATES[usize::from(fscod)],
                [1, 2, 3, 6][usize::from((data[4] >> 4) & 3)],
            )
        };
        if stream_type == 3 {
            return Err(Ac3Error::Invalid("reserved stream type"));
        }
        let acmod = (data[4] >> 1) & 7;
        Ok(Ac3Header {
            codec: AudioCodec::Eac3,
            fscod,
            sample_rate,
            bsid,
            bsmod: 0,
            acmod,
            lfe: data[4] & 1 == 1,
            frame_size_code: 0,
            stream_type,
            substream_id,
            frame_len: words * 2,
            samples: 256 * blocks,
        })
    }

    /// Channels, LFE included.
    pub fn channels(&self) -> u16 {
        CHANNELS[usize::from(self.acmod & 7)] + u16::from(self.lfe)
    }

    /// Bits per second.
    pub fn bitrate(&self) -> u32 {
        (self.frame_len as u64 * 8 * u64::from(self.sample_rate) / u64::from(self.samples.max(1)))
            as u32
    }

    /// The `dac3` (AC-3) or `dec3` (E-AC-3, one independent substream)
    /// payload.
    pub fn specific_box(&self) -> Vec<u8> {
        let mut bits = BitWriter::default();
        if self.codec == AudioCodec::Ac3 {
            bits.put(2, u32::from(self.fscod));
            bits.put(5, u32::from(self.bsid));
            bits.put(3, u32::from(self.bsmod));
            bits.put(3, u32::from(self.acmod));
            bits.put(1, u32::from(self.lfe));
            bits.put(5, u32::from(self.frame_size_code >> 1));
            bits.put(5, 0);
        } else {
            bits.put(13, self.bitrate() / 1000);
            bits.put(3, 0); // num_ind_sub - 1
            bits.put(2, u32::from(self.fscod));
            bits.put(5, u32::from(self.bsid));
            bits.put(1, 0); // reserved
            bits.put(1, 0); // asvc
            bits.put(3, u32::from(self.bsmod));
            bits.put(3, u32::from(self.acmod));
            bits.put(1, u32::from(self.lfe));
            bits.put(3, 0); // reserved
            bits.put(4, 0); // num_dep_sub
            bits.put(1, 0); // reserved
        }
        bits.finish()
    }

    /// The codec parameters of a track of such frames (track 0); the extra
    /// data is the `dac3`/`dec3` payload.
    pub fn audio_params(&self) -> AudioParams {
        AudioParams {
            track: 0,
            codec: self.codec,
            sample_rate: self.sample_rate,
            channels: self.channels(),
            frame_samples: self.samples,
            extra_data: Bytes::from(self.specific_box()),
        }
    }
}

/// `acmod` and `lfeon` from the byte after `bsid`/`bsmod` (AC-3).
fn acmod_and_lfe(byte: u8) -> (u8, bool) {
    let acmod = byte >> 5;
    // cmixlev, surmixlev and dsurmod come before lfeon, by layout.
    let mut skip = 0;
    if acmod & 1 != 0 && acmod != 1 {
        skip += 2;
    }
    if acmod & 4 != 0 {
        skip += 2;
    }
    if acmod == 2 {
        skip += 2;
    }
    // 5 bits remain after acmod in this byte; skip is at most 4.
    let lfe = (byte >> (4 - skip)) & 1 == 1;
    (acmod, lfe)
}

/// Reads the channel count (LFE included) and LFE flag of a `dac3`
/// payload.
pub fn dac3_channels(dac3: &[u8]) -> Option<(u16, bool)> {
    let v = u32::from_be_bytes([0, *dac3.first()?, *dac3.get(1)?, *dac3.get(2)?]);
    let acmod = ((v >> 11) & 7) as usize;
    let lfe = (v >> 10) & 1 == 1;
    Some((CHANNELS[acmod] + u16::from(lfe), lfe))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_ac3_header_and_builds_dac3() {
        // ffmpeg's AC-3: 48 kHz mono, 96 kbit/s.
        let h = Ac3Header::parse(&[0x0b, 0x77, 0x48, 0x0d, 0x0c, 0x40, 0x2f, 0x84]).unwrap();
        assert_eq!(
            (h.codec, h.sample_rate, h.channels()),
            (AudioCodec::Ac3, 48000, 1)
        );
        assert_eq!((h.frame_len, h.samples, h.bitrate()), (384, 1536, 96000));
        let dac3 = h.specific_box();
        assert_eq!(dac3, [0x10, 0x08, 0xc0]);
        assert_eq!(dac3_channels(&dac3), Some((1, false)));
        // 5.1 at 44.1 kHz, 448 kbit/s, odd frame size code: one more word.
        let surround =
            Ac3Header::parse(&[0x0b, 0x77, 0, 0, 0x5f, 0x40, 0xf5, 0x00]).expect("5.1 header");
        assert_eq!(
            (surround.acmod, surround.lfe, surround.channels()),
            (7, true, 6)
        );
        assert_eq!(
            surround.frame_len,
            (448_000 * 1536 / 16 / 44100 + 1) as usize * 2
        );
    }

    #[test]
    fn reads_an_eac3_header() {
        // Independent substream 0, 384 words, 48 kHz, 6 blocks, stereo.
        let h = Ac3Header::parse(&[0x0b, 0x77, 0x01, 0x7f, 0x34, 0x80, 0, 0]).unwrap();
        assert_eq!(
            (h.codec, h.stream_type, h.substream_id),
            (AudioCodec::Eac3, 0, 0)
        );
        assert_eq!((h.frame_len, h.samples, h.channels()), (768, 1536, 2));
        assert_eq!(h.specific_box().len(), 5);
    }

    #[test]
    fn refuses_bad_headers() {
        assert_eq!(Ac3Header::parse(&[0x0b]), Err(Ac3Error::Incomplete));
        assert_eq!(
            Ac3Header::parse(&[0x0b, 0x78, 0, 0, 0, 0, 0, 0]),
            Err(Ac3Error::NoSync)
        );
        assert!(Ac3Header::parse(&[0x0b, 0x77, 0, 0, 0xc0, 0x40, 0, 0]).is_err());
        assert!(Ac3Header::parse(&[0x0b, 0x77, 0, 0, 0x3f, 0x40, 0, 0]).is_err());
        assert!(Ac3Header::parse(&[0x0b, 0x77, 0, 0, 0x00, 0x50, 0, 0]).is_err());
    }
}
