//! The program config element (ISO/IEC 14496-3, 4.4.1.1): the channel
//! layout of AAC whose channel configuration is 0 (ffmpeg writes one for
//! 2.1 and 6.1). ADTS carries it as the first element of the first frame's
//! raw data block; MP4 needs it inside the AudioSpecificConfig.

use bytes::Bytes;

use super::config::AacConfig;
use super::FRAME_SAMPLES;
use crate::bits::{BitReader, BitWriter};
use crate::params::{AudioCodec, AudioParams};

/// `ID_PCE`, the syntax element id of a program config element.
const ID_PCE: u32 = 5;

/// Where a channel of the layout sits, for mixing speech down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelRole {
    /// Front centre.
    Centre,
    /// Front left or right.
    Front,
    /// Side or back.
    Surround,
    /// Low-frequency effects.
    Lfe,
}

/// One channel element of a layout: a pair (CPE) or a single channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelElement {
    /// A channel pair element (two channels).
    pub pair: bool,
    /// `element_tag_select`.
    pub tag: u8,
}

/// A parsed program config element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramConfig {
    /// `element_instance_tag`.
    pub instance_tag: u8,
    /// `object_type` (profile, 1 = LC).
    pub object_type: u8,
    /// `sampling_frequency_index`.
    pub sampling_index: u8,
    /// Front channel elements, in order.
    pub front: Vec<ChannelElement>,
    /// Side channel elements.
    pub side: Vec<ChannelElement>,
    /// Back channel elements.
    pub back: Vec<ChannelElement>,
    /// LFE element tags.
    pub lfe: Vec<u8>,
    /// Associated data element tags.
    pub assoc: Vec<u8>,
    /// Coupling channel elements: (independently switched, tag).
    pub coupling: Vec<(bool, u8)>,
    /// `mono_mixdown_element_number`, when present.
    pub mono_mixdown: Option<u8>,
    /// `stereo_mixdown_element_number`, when present.
    pub stereo_mixdown: Option<u8>,
    /// `(matrix_mixdown_idx, pseudo_surround_enable)`, when present.
    pub matrix_mixdown: Option<(u8, bool)>,
    /// The comment field.
    pub comment: Vec<u8>,
}

fn elements(r: &mut BitReader<'_>, n: u32) -> Option<Vec<ChannelElement>> {
    (0..n)
        .map(|_| {
            Some(ChannelElement {
                pair: r.read_bit()?,
                tag: r.read_bits(4)? as u8,
            })
        })
        .collect()
}

fn optional(r: &mut BitReader<'_>, bits: u32) -> Option<Option<u8>> {
    Some(if r.read_bit()? {
        Some(r.read_bits(bits)? as u8)
    } else {
        None
    })
}

impl ProgramConfig {
    /// Reads a PCE (after its element id, if it has one); byte alignment
    /// is counted from `align_origin`, the bit position its container
    /// starts at.
    pub fn read(r: &mut BitReader<'_>, align_origin: usize) -> Option<ProgramConfig> {
        let instance_tag = r.read_bits(4)? as u8;
        let object_type = r.read_bits(2)? as u8;
        let sampling_index = r.read_bits(4)? as u8;
        let (front, side, back) = (r.read_bits(4)?, r.read_bits(4)?, r.read_bits(4)?);
        let (lfe, assoc, coupling) = (r.read_bits(2)?, r.read_bits(3)?, r.read_bits(4)?);
        let mono_mixdown = optional(r, 4)?;
        let stereo_mixdown = optional(r, 4)?;
        let matrix_mixdown = if r.read_bit()? {
            Some((r.read_bits(2)? as u8, r.read_bit()?))
        } else {
            None
        };
        let front = elements(r, front)?;
        let side = elements(r, side)?;
        let back = elements(r, back)?;
        let lfe = (0..lfe)
            .map(|_| r.read_bits(4).map(|t| t as u8))
            .collect::<Option<_>>()?;
        let assoc = (0..assoc)
            .map(|_| r.read_bits(4).map(|t| t as u8))
            .collect::<Option<_>>()?;
        let coupling = (0..coupling)
            .map(|_| Some((r.read_bit()?, r.read_bits(4)? as u8)))
            .collect::<Option<_>>()?;
        let misaligned = (r.bit_position() - align_origin) % 8;
        if misaligned > 0 {
            r.skip_bits(8 - misaligned)?;
        }
        let comment_len = r.read_bits(8)?;
        let comment = (0..comment_len)
            .map(|_| r.read_bits(8).map(|b| b as u8))
            .collect::<Option<_>>()?;
        Some(ProgramConfig {
            instance_tag,
            object_type,
            sampling_index,
            front,
            side,
            back,
            lfe,
            assoc,
            coupling,
            mono_mixdown,
            stereo_mixdown,
            matrix_mixdown,
            comment,
        })
    }

    /// The PCE that opens a raw data block (an ADTS frame's payload), if
    /// the block starts with one.
    pub fn from_raw_block(raw: &[u8]) -> Option<ProgramConfig> {
        let mut r = BitReader::new(raw);
        if r.read_bits(3)? != ID_PCE {
            return None;
        }
        Self::read(&mut r, 0)
    }

    /// Writes the PCE (without an element id), aligning from `align_origin`.
    pub(crate) fn write(&self, w: &mut BitWriter, align_origin: usize) {
        w.put(4, u32::from(self.instance_tag));
        w.put(2, u32::from(self.object_type));
        w.put(4, u32::from(self.sampling_index));
        for n in [self.front.len(), self.side.len(), self.back.len()] {
            w.put(4, n as u32);
        }
        w.put(2, self.lfe.len() as u32);
        w.put(3, self.assoc.len() as u32);
        w.put(4, self.coupling.len() as u32);
        for mixdown in [self.mono_mixdown, self.stereo_mixdown] {
            w.put(1, u32::from(mixdown.is_some()));
            if let Some(m) = mixdown {
                w.put(4, u32::from(m));
            }
        }
        w.put(1, u32::from(self.matrix_mixdown.is_some()));
        if let Some((idx, pseudo)) = self.matrix_mixdown {
            w.put(2, u32::from(idx));
            w.put(1, u32::from(pseudo));
        }
        for e in self.front.iter().chain(&self.side).chain(&self.back) {
            w.put(1, u32::from(e.pair));
            w.put(4, u32::from(e.tag));
        }
        for tag in self.lfe.iter().chain(&self.assoc) {
            w.put(4, u32::from(*tag));
        }
        for (ind_sw, tag) in &self.coupling {
            w.put(1, u32::from(*ind_sw));
            w.put(4, u32::from(*tag));
        }
        let misaligned = (w.bit_position() - align_origin) % 8;
        if misaligned > 0 {
            w.put(8 - misaligned as u32, 0);
        }
        w.put(8, self.comment.len() as u32);
        for b in &self.comment {
            w.put(8, u32::from(*b));
        }
    }

    /// Channels of the layout.
    pub fn channels(&self) -> u16 {
        self.roles().len() as u16
    }

    /// The role of each decoded channel, in element order (front, side,
    /// back, LFE). The first single front channel is the centre wherever
    /// it is listed: the standard lists it first, ffmpeg's encoder writes
    /// 6.1 as a front pair and then the centre.
    pub fn roles(&self) -> Vec<ChannelRole> {
        let mut roles = Vec::new();
        let mut centre = false;
        for e in &self.front {
            if e.pair {
                roles.extend([ChannelRole::Front, ChannelRole::Front]);
            } else if !centre {
                centre = true;
                roles.push(ChannelRole::Centre);
            } else {
                roles.push(ChannelRole::Front);
            }
        }
        for e in self.side.iter().chain(&self.back) {
            roles.push(ChannelRole::Surround);
            if e.pair {
                roles.push(ChannelRole::Surround);
            }
        }
        roles.extend(self.lfe.iter().map(|_| ChannelRole::Lfe));
        roles
    }

    /// The AudioSpecificConfig of an AAC-LC stream with this layout.
    pub fn audio_specific_config(&self, config: &AacConfig) -> Vec<u8> {
        let mut w = BitWriter::default();
        w.put(5, u32::from(config.object_type));
        w.put(4, u32::from(config.sampling_index));
        w.put(4, 0); // channelConfiguration: in the PCE
        w.put(3, 0); // frameLengthFlag, dependsOnCoreCoder, extensionFlag
        self.write(&mut w, 0);
        w.finish()
    }

    /// The codec parameters of a track with this layout (track 0).
    pub fn audio_params(&self, config: &AacConfig) -> AudioParams {
        AudioParams {
            track: 0,
            codec: AudioCodec::Aac,
            sample_rate: config.sample_rate,
            channels: self.channels(),
            frame_samples: FRAME_SAMPLES,
            extra_data: Bytes::from(self.audio_specific_config(config)),
        }
    }

    /// The PCE of an AudioSpecificConfig whose channel configuration is 0
    /// (AAC object types with a GASpecificConfig).
    pub fn from_audio_specific_config(asc: &[u8]) -> Option<ProgramConfig> {
        let mut r = BitReader::new(asc);
        let object_type = r.read_bits(5)?;
        if object_type == 31 {
            return None;
        }
        if r.read_bits(4)? == 15 {
            r.skip_bits(24)?;
        }
        if r.read_bits(4)? != 0 || !matches!(object_type, 1..=4 | 6 | 7 | 17 | 19..=23) {
            return None;
        }
        r.skip_bits(1)?; // frameLengthFlag
        if r.read_bit()? {
            r.skip_bits(14)?; // coreCoderDelay
        }
        r.skip_bits(1)?; // extensionFlag
        Self::read(&mut r, 0)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The PCE ffmpeg's encoder writes for 2.1 (`-ac 3`): a front CPE and
    /// an LFE, as the first element of the first ADTS frame.
    pub(crate) fn two_one() -> ProgramConfig {
        ProgramConfig {
            instance_tag: 0,
            object_type: 1,
            sampling_index: 3,
            front: vec![ChannelElement { pair: true, tag: 0 }],
            side: Vec::new(),
            back: Vec::new(),
            lfe: vec![0],
            assoc: Vec::new(),
            coupling: Vec::new(),
            mono_mixdown: None,
            stereo_mixdown: None,
            matrix_mixdown: None,
            comment: Vec::new(),
        }
    }

    #[test]
    fn round_trips_through_a_raw_block_and_an_audio_specific_config() {
        let pce = two_one();
        let mut w = BitWriter::default();
        w.put(3, ID_PCE);
        pce.write(&mut w, 0);
        w.put(3, 7); // ID_END
        let raw = w.finish();
        assert_eq!(ProgramConfig::from_raw_block(&raw), Some(pce.clone()));
        let config = AacConfig {
            object_type: 2,
            sampling_index: 3,
            sample_rate: 48000,
            channel_config: 0,
        };
        let params = pce.audio_params(&config);
        assert_eq!(params.channels, 3);
        assert_eq!(
            ProgramConfig::from_audio_specific_config(&params.extra_data),
            Some(pce.clone())
        );
        assert_eq!(
            pce.roles(),
            [ChannelRole::Front, ChannelRole::Front, ChannelRole::Lfe]
        );
        assert_eq!(ProgramConfig::from_raw_block(&[0x21, 0x10]), None, "a CPE");
    }

    #[test]
    fn six_one_roles() {
        let e = |pair| ChannelElement { pair, tag: 0 };
        let pce = ProgramConfig {
            front: vec![e(false), e(true)],
            side: vec![e(true)],
            back: vec![e(false)],
            ..two_one()
        };
        use ChannelRole::*;
        assert_eq!(
            pce.roles(),
            [Centre, Front, Front, Surround, Surround, Surround, Lfe]
        );
        assert_eq!(pce.channels(), 7);
        // What ffmpeg's encoder writes for `pan=6.1`: front CPE + SCE, a
        // side SCE, a back CPE + SCE, no LFE element.
        let ffmpeg = ProgramConfig {
            front: vec![e(true), e(false)],
            side: vec![e(false)],
            back: vec![e(true), e(false)],
            lfe: Vec::new(),
            ..two_one()
        };
        assert_eq!(
            ffmpeg.roles(),
            [Front, Front, Centre, Surround, Surround, Surround, Surround]
        );
    }
}
