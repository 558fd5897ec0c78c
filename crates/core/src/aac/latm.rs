//! LATM/LOAS framing of AAC (ISO/IEC 14496-3, 1.7), as MPEG-TS stream type
//! 0x11 carries it (ffmpeg `-mpegts_flags latm`, DVB broadcasts): LOAS sync
//! frames around AudioMuxElements, whose StreamMuxConfig holds the
//! AudioSpecificConfig and whose payloads are raw AAC frames, not byte
//! aligned.

use bytes::Bytes;

use super::adts::SAMPLE_RATES;
use super::config::AacConfig;
use super::pce::ProgramConfig;
use super::FRAME_SAMPLES;
use crate::bits::BitReader;
use crate::params::{AudioCodec, AudioParams};

/// Why bytes are not (yet) a usable LOAS frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LatmError {
    /// More bytes are needed.
    #[error("need more bytes for a LOAS header")]
    Incomplete,
    /// No `0x2B7` sync word.
    #[error("no LOAS sync word")]
    NoSync,
    /// The AudioMuxElement cannot be read (or uses what cht does not
    /// read: several programs or layers, non-AAC layers, a program config
    /// element).
    #[error("unusable LATM frame: {0}")]
    Invalid(&'static str),
}

/// Bytes of a LOAS sync header.
pub const LOAS_HEADER_LEN: usize = 3;

/// The length of the LOAS frame at the start of `data`, header included.
pub fn loas_frame_len(data: &[u8]) -> Result<usize, LatmError> {
    if data.len() < 2 {
        return Err(LatmError::Incomplete);
    }
    if data[0] != 0x56 || data[1] & 0xe0 != 0xe0 {
        return Err(LatmError::NoSync);
    }
    if data.len() < LOAS_HEADER_LEN {
        return Err(LatmError::Incomplete);
    }
    let len = (usize::from(data[1] & 0x1f) << 8) | usize::from(data[2]);
    if len == 0 {
        return Err(LatmError::Invalid("empty AudioMuxElement"));
    }
    Ok(LOAS_HEADER_LEN + len)
}

/// The stream's configuration, as the last StreamMuxConfig gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MuxConfig {
    audio_mux_version: u8,
    params: AudioParams,
    /// 0: byte lengths per payload; 1: a fixed payload length.
    frame_length_type: u8,
    fixed_len: usize,
    subframes: usize,
}

/// Reads AudioMuxElements one after the other (the configuration may be
/// sent only now and then), handing out raw AAC frames.
#[derive(Debug, Default)]
pub struct LatmReader {
    config: Option<MuxConfig>,
}

impl LatmReader {
    /// A reader that has seen no configuration yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The parameters of the last configuration read.
    pub fn params(&self) -> Option<&AudioParams> {
        self.config.as_ref().map(|c| &c.params)
    }

    /// Reads one LOAS frame (header included) and appends its raw AAC
    /// frames to `out`. Frames before the first configuration are an
    /// error (they cannot be decoded).
    pub fn read_loas(&mut self, frame: &[u8], out: &mut Vec<Bytes>) -> Result<(), LatmError> {
        let element = frame.get(LOAS_HEADER_LEN..).ok_or(LatmError::Incomplete)?;
        let mut r = BitReader::new(element);
        let truncated = LatmError::Invalid("truncated");
        let use_same_mux = r.read_bit().ok_or(truncated)?;
        if !use_same_mux {
            self.config = Some(stream_mux_config(&mut r)?);
        }
        let config = self
            .config
            .as_ref()
            .ok_or(LatmError::Invalid("payload before any StreamMuxConfig"))?;
        if config.audio_mux_version != 0 && config.frame_length_type != 0 {
            return Err(LatmError::Invalid("frame length type"));
        }
        for _ in 0..=config.subframes {
            let len = match config.frame_length_type {
                0 => {
                    let mut len = 0usize;
                    loop {
                        let tmp = r.read_bits(8).ok_or(truncated)? as usize;
                        len += tmp;
                        if tmp != 255 {
                            break;
                        }
                    }
                    len
                }
                _ => config.fixed_len,
            };
            if len == 0 || r.bits_left() < len * 8 {
                return Err(truncated);
            }
            let payload: Vec<u8> = (0..len)
                .map(|_| r.read_bits(8).map(|b| b as u8))
                .collect::<Option<_>>()
                .ok_or(truncated)?;
            out.push(Bytes::from(payload));
        }
        Ok(())
    }
}

/// `LatmGetValue()`.
fn latm_value(r: &mut BitReader<'_>) -> Option<u32> {
    let bytes = r.read_bits(2)?;
    let mut value = 0u32;
    for _ in 0..=bytes {
        value = (value << 8) | r.read_bits(8)?;
    }
    Some(value)
}

fn stream_mux_config(r: &mut BitReader<'_>) -> Result<MuxConfig, LatmError> {
    let t = LatmError::Invalid("truncated StreamMuxConfig");
    let audio_mux_version = r.read_bit().ok_or(t)? as u8;
    let version_a = audio_mux_version == 1 && r.read_bit().ok_or(t)?;
    if version_a {
        return Err(LatmError::Invalid("audioMuxVersionA 1"));
    }
    if audio_mux_version == 1 {
        latm_value(r).ok_or(t)?; // taraBufferFullness
    }
    let _all_same_framing = r.read_bit().ok_or(t)?;
    let subframes = r.read_bits(6).ok_or(t)? as usize;
    let programs = r.read_bits(4).ok_or(t)?;
    let layers = r.read_bits(3).ok_or(t)?;
    if programs != 0 || layers != 0 {
        return Err(LatmError::Invalid("several programs or layers"));
    }
    let params = if audio_mux_version == 1 {
        let asc_len = latm_value(r).ok_or(t)? as usize;
        let start = r.bit_position();
        let params = audio_specific_config(r)?;
        let used = r.bit_position() - start;
        r.skip_bits(asc_len.checked_sub(used).ok_or(t)?).ok_or(t)?;
        params
    } else {
        audio_specific_config(r)?
    };
    let frame_length_type = r.read_bits(3).ok_or(t)? as u8;
    let mut fixed_len = 0;
    match frame_length_type {
        0 => {
            r.skip_bits(8).ok_or(t)?; // latmBufferFullness
        }
        1 => fixed_len = (r.read_bits(9).ok_or(t)? as usize + 20) / 8,
        _ => return Err(LatmError::Invalid("CELP or HVXC layer")),
    }
    // Other data follows the payloads; the LOAS length delimits it anyway.
    let mut other_data_bits = 0u32;
    if r.read_bit().ok_or(t)? {
        if audio_mux_version == 1 {
            other_data_bits = latm_value(r).ok_or(t)?;
        } else {
            loop {
                let escape = r.read_bit().ok_or(t)?;
                other_data_bits = (other_data_bits << 8).wrapping_add(r.read_bits(8).ok_or(t)?);
                if !escape {
                    break;
                }
            }
        }
    }
    let _ = other_data_bits;
    if r.read_bit().ok_or(t)? {
        r.skip_bits(8).ok_or(t)?; // crcCheckSum
    }
    Ok(MuxConfig {
        audio_mux_version,
        params,
        frame_length_type,
        fixed_len,
        subframes,
    })
}

fn object_type(r: &mut BitReader<'_>) -> Option<u32> {
    let t = r.read_bits(5)?;
    if t == 31 {
        return Some(32 + r.read_bits(6)?);
    }
    Some(t)
}

fn sample_rate(r: &mut BitReader<'_>) -> Option<(u8, u32)> {
    let index = r.read_bits(4)? as u8;
    if index == 15 {
        return Some((15, r.read_bits(24)?));
    }
    Some((index, *SAMPLE_RATES.get(usize::from(index))?))
}

/// An AudioSpecificConfig read in place; the parameters' extra data is a
/// copy of exactly its bits.
fn audio_specific_config(r: &mut BitReader<'_>) -> Result<AudioParams, LatmError> {
    let t = LatmError::Invalid("truncated AudioSpecificConfig");
    let mut copy = r.clone();
    let start = r.bit_position();
    let first_type = object_type(r).ok_or(t)?;
    let (sampling_index, rate) = sample_rate(r).ok_or(t)?;
    let channel_config = r.read_bits(4).ok_or(t)? as u8;
    let mut core_type = first_type;
    if matches!(first_type, 5 | 29) {
        sample_rate(r).ok_or(t)?;
        core_type = object_type(r).ok_or(t)?;
    }
    if !matches!(core_type, 1..=4 | 6 | 7 | 17 | 19..=23) {
        return Err(LatmError::Invalid("audio object type"));
    }
    let short_frames = r.read_bit().ok_or(t)?;
    if r.read_bit().ok_or(t)? {
        r.skip_bits(14).ok_or(t)?; // coreCoderDelay
    }
    let extension = r.read_bit().ok_or(t)?;
    // The layout of 2.1, 6.1 and the like: its comment field is aligned
    // from the start of the AudioSpecificConfig (as ffmpeg reads it).
    let layout = if channel_config == 0 {
        Some(ProgramConfig::read(r, start).ok_or(LatmError::Invalid("program config element"))?)
    } else {
        None
    };
    if matches!(core_type, 6 | 20) {
        r.skip_bits(3).ok_or(t)?;
    }
    if extension {
        if core_type == 22 {
            r.skip_bits(16).ok_or(t)?;
        }
        if matches!(core_type, 17 | 19 | 20 | 23) {
            r.skip_bits(3).ok_or(t)?;
        }
        r.skip_bits(1).ok_or(t)?;
    }
    if matches!(core_type, 17 | 19..=23) && r.read_bits(2).ok_or(t)? >= 2 {
        return Err(LatmError::Invalid("error protection config"));
    }
    let bits = r.bit_position() - start;
    let asc: Vec<u8> = (0..bits.div_ceil(8))
        .map(|i| {
            let n = (bits - i * 8).min(8) as u32;
            copy.read_bits(n).map(|v| (v << (8 - n)) as u8)
        })
        .collect::<Option<_>>()
        .ok_or(t)?;
    let config = AacConfig {
        object_type: u8::try_from(first_type).map_err(|_| t)?,
        sampling_index,
        sample_rate: rate,
        channel_config,
    };
    Ok(AudioParams {
        track: 0,
        codec: AudioCodec::Aac,
        sample_rate: rate,
        channels: layout.map_or(config.channels(), |l| l.channels()),
        frame_samples: if short_frames { 960 } else { FRAME_SAMPLES },
        extra_data: Bytes::from(asc),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A LOAS frame with a StreamMuxConfig (AAC-LC, 48 kHz, mono) and a
    /// 3-byte payload, written bit by bit as ffmpeg's LATM muxer does.
    fn loas(payload: &[u8], with_config: bool) -> Vec<u8> {
        let mut bits: Vec<(u32, u32)> = vec![(1, u32::from(!with_config))];
        if with_config {
            bits.extend([(1, 0), (1, 1), (6, 0), (4, 0), (3, 0)]);
            bits.extend([(5, 2), (4, 3), (4, 1), (1, 0), (1, 0), (1, 0)]); // ASC
            bits.extend([(3, 0), (8, 0xff), (1, 0), (1, 0)]);
        }
        bits.push((8, payload.len() as u32));
        bits.extend(payload.iter().map(|&b| (8, u32::from(b))));
        let mut element = Vec::new();
        let (mut acc, mut n) = (0u64, 0u32);
        for (width, value) in bits {
            acc = (acc << width) | u64::from(value);
            n += width;
            while n >= 8 {
                n -= 8;
                element.push((acc >> n) as u8);
            }
        }
        if n > 0 {
            element.push((acc << (8 - n)) as u8);
        }
        let len = element.len();
        let mut frame = vec![0x56, 0xe0 | (len >> 8) as u8, len as u8];
        frame.extend(element);
        frame
    }

    #[test]
    fn reads_config_and_unaligned_payloads() {
        let first = loas(&[0x21, 0x10, 0x05], true);
        assert_eq!(loas_frame_len(&first), Ok(first.len()));
        let mut reader = LatmReader::new();
        let mut out = Vec::new();
        reader.read_loas(&first, &mut out).unwrap();
        assert_eq!(out, vec![Bytes::from_static(&[0x21, 0x10, 0x05])]);
        let params = reader.params().unwrap().clone();
        assert_eq!((params.sample_rate, params.channels), (48000, 1));
        assert_eq!(&params.extra_data[..], &[0x11, 0x88]);
        out.clear();
        reader.read_loas(&loas(&[7, 8], false), &mut out).unwrap();
        assert_eq!(out, vec![Bytes::from_static(&[7, 8])]);
    }

    #[test]
    fn reads_a_program_config_element_in_the_config() {
        use crate::bits::BitWriter;
        // 2.1 as ffmpeg's encoder describes it (a front pair and an LFE),
        // with a comment to align.
        let pce = ProgramConfig {
            comment: b"x".to_vec(),
            ..super::super::pce::tests::two_one()
        };
        let mut w = BitWriter::default();
        for (width, value) in [(1, 0), (1, 0), (1, 1), (6, 0), (4, 0), (3, 0)] {
            w.put(width, value);
        }
        // The ASC starts at bit 17: the PCE's comment is aligned from there.
        let asc_start = w.bit_position();
        for (width, value) in [(5, 2), (4, 3), (4, 0), (1, 0), (1, 0), (1, 0)] {
            w.put(width, value);
        }
        pce.write(&mut w, asc_start);
        for (width, value) in [
            (3, 0),
            (8, 0xff),
            (1, 0),
            (1, 0),
            (8, 2),
            (8, 0x21),
            (8, 0x10),
        ] {
            w.put(width, value);
        }
        let element = w.finish();
        let mut frame = vec![0x56, 0xe0 | (element.len() >> 8) as u8, element.len() as u8];
        frame.extend(element);
        let mut reader = LatmReader::new();
        let mut out = Vec::new();
        reader.read_loas(&frame, &mut out).unwrap();
        assert_eq!(out, vec![Bytes::from_static(&[0x21, 0x10])]);
        let params = reader.params().unwrap();
        assert_eq!((params.sample_rate, params.channels), (48000, 3));
        assert_eq!(
            ProgramConfig::from_audio_specific_config(&params.extra_data),
            Some(pce)
        );
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert_eq!(loas_frame_len(&[0x56]), Err(LatmError::Incomplete));
        assert_eq!(loas_frame_len(&[0xff, 0xf1, 0]), Err(LatmError::NoSync));
        let mut out = Vec::new();
        assert!(LatmReader::new()
            .read_loas(&loas(&[1], false), &mut out)
            .is_err());
        let mut cut = loas(&[1, 2, 3], true);
        cut.truncate(cut.len() - 2);
        assert!(LatmReader::new().read_loas(&cut, &mut out).is_err());
    }
}
