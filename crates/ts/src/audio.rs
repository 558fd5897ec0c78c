//! Audio framing of the elementary streams: PES payloads in, one
//! [`AudioPacket`] per coded frame out, for every audio codec cht records:
//! AAC in ADTS (the header removed) or LATM/LOAS (the raw frames taken
//! out), MPEG audio and AC-3/E-AC-3 (whole frames), Opus (the control
//! header removed). A stream whose PMT does not say (private data) is
//! probed: its first frame's sync word tells.
//!
//! A PES may hold several frames, and a frame may continue into the next
//! PES; the splitter joins such frames. Bytes that are not frames are
//! skipped up to the next valid header and reported as dropped.
//!
//! Timing: a PES with a PTS anchors the clock; each frame that starts after it
//! gets `PTS + samples_so_far * 90000 / sample_rate` (rounded), so PES without
//! a PTS continue the timeline and 44.1 kHz does not accumulate rounding.

use bytes::Bytes;
use cht_core::aac::{
    loas_frame_len, AdtsError, AdtsHeader, LatmError, LatmReader, ProgramConfig, FRAME_SAMPLES,
};
use cht_core::ac3::{Ac3Error, Ac3Header};
use cht_core::mpa::{MpaError, MpaHeader};
use cht_core::opus::{packet_samples, ControlHeader, ControlHeaderError, OpusConfig};
use cht_core::{AudioCodec, AudioPacket, AudioParams, CLOCK_HZ};

use crate::streams::AudioFraming;

/// What the splitter produced.
#[derive(Debug)]
pub(crate) enum AudioOutput {
    Params(AudioParams),
    Packet(AudioPacket),
    /// Bytes that could not be framed or timed.
    Dropped(usize),
}

/// The last PTS seen and the samples of the frames that started since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Anchor {
    pts: i64,
    samples: u64,
}

impl Anchor {
    fn pts_for(&self, sample_rate: u32) -> i64 {
        let rate = u64::from(sample_rate.max(1));
        let ticks = (self.samples * u64::from(CLOCK_HZ) * 2 + rate) / (2 * rate);
        self.pts
            .saturating_add(i64::try_from(ticks).unwrap_or(i64::MAX))
    }

    fn after(self, samples: u32) -> Anchor {
        Anchor {
            samples: self.samples + u64::from(samples),
            ..self
        }
    }
}

/// Why the bytes at a position are not (yet) a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sync {
    /// A frame may start here; more bytes are needed to tell.
    Incomplete,
    /// No frame starts here.
    NotHere,
}

impl From<AdtsError> for Sync {
    fn from(e: AdtsError) -> Sync {
        match e {
            AdtsError::Incomplete => Sync::Incomplete,
            _ => Sync::NotHere,
        }
    }
}

impl From<MpaError> for Sync {
    fn from(e: MpaError) -> Sync {
        match e {
            MpaError::Incomplete => Sync::Incomplete,
            _ => Sync::NotHere,
        }
    }
}

impl From<Ac3Error> for Sync {
    fn from(e: Ac3Error) -> Sync {
        match e {
            Ac3Error::Incomplete => Sync::Incomplete,
            _ => Sync::NotHere,
        }
    }
}

impl From<LatmError> for Sync {
    fn from(e: LatmError) -> Sync {
        match e {
            LatmError::Incomplete => Sync::Incomplete,
            _ => Sync::NotHere,
        }
    }
}

impl From<ControlHeaderError> for Sync {
    fn from(e: ControlHeaderError) -> Sync {
        match e {
            ControlHeaderError::Incomplete => Sync::Incomplete,
            ControlHeaderError::NoSync => Sync::NotHere,
        }
    }
}

/// Bytes read to find a frame's length (an Opus control header with a
/// long size and an extension is the longest).
const MAX_HEADER: usize = 320;
/// Private data that has shown no audio sync after this many bytes is
/// not audio.
const PROBE_LIMIT: u64 = 64 << 10;

/// The frame length at the start of `data` in `framing`.
fn frame_len(framing: AudioFraming, data: &[u8]) -> Result<usize, Sync> {
    Ok(match framing {
        AudioFraming::Adts => AdtsHeader::parse(data)?.frame_len,
        AudioFraming::Loas => loas_frame_len(data)?,
        AudioFraming::Mpeg => MpaHeader::parse(data)?.frame_len,
        AudioFraming::Ac3 => Ac3Header::parse(data)?.frame_len,
        AudioFraming::Opus { .. } => {
            let h = ControlHeader::parse(data)?;
            h.header_len + h.au_size
        }
        AudioFraming::Probe => return Err(Sync::NotHere),
    })
}

/// The framing whose sync word starts `data`, confirmed by the next frame
/// when the bytes reach it.
fn probe(data: &[u8]) -> Result<AudioFraming, Sync> {
    let candidates = [
        AudioFraming::Adts,
        AudioFraming::Ac3,
        AudioFraming::Loas,
        AudioFraming::Opus { channels: None },
        AudioFraming::Mpeg,
    ];
    let mut incomplete = false;
    for framing in candidates {
        match frame_len(framing, data) {
            Ok(len) => match data.get(len..) {
                Some(next) if next.len() >= 2 => match frame_len(framing, next) {
                    Ok(_) | Err(Sync::Incomplete) => return Ok(framing),
                    Err(Sync::NotHere) => {}
                },
                _ => incomplete = true,
            },
            Err(Sync::Incomplete) => incomplete = true,
            Err(Sync::NotHere) => {}
        }
    }
    Err(if incomplete {
        Sync::Incomplete
    } else {
        Sync::NotHere
    })
}

/// One audio track's framing state.
#[derive(Debug)]
pub(crate) struct AudioSplitter {
    track: u8,
    framing: AudioFraming,
    latm: LatmReader,
    /// Start of a frame that continues in the next PES (at most one frame).
    carry: Vec<u8>,
    /// The clock when the carried frame started.
    carry_clock: Option<Anchor>,
    clock: Option<Anchor>,
    /// The parameters announced last.
    params: Option<AudioParams>,
    /// ADTS with channel configuration 0: the parameters its program
    /// config element gave (the PCE is only in the first frame).
    pce_params: Option<AudioParams>,
    /// Bytes dropped while the framing was still unknown.
    probe_dropped: u64,
    /// E-AC-3 frames of other substreams (not recorded).
    pub other_substreams: u64,
}

impl AudioSplitter {
    pub fn new(track: u8, framing: AudioFraming) -> Self {
        AudioSplitter {
            track,
            framing,
            latm: LatmReader::new(),
            carry: Vec::new(),
            carry_clock: None,
            clock: None,
            params: None,
            pce_params: None,
            probe_dropped: 0,
            other_substreams: 0,
        }
    }

    /// Private data that never showed an audio frame's sync.
    pub fn is_not_audio(&self) -> bool {
        self.framing == AudioFraming::Probe && self.probe_dropped >= PROBE_LIMIT
    }

    /// Splits the elementary-stream bytes of one PES.
    pub fn push(&mut self, es: Bytes, pts: Option<i64>, out: &mut impl FnMut(AudioOutput)) {
        let mut pos = if self.carry.is_empty() {
            0
        } else {
            self.complete_carry(&es, out)
        };
        if let Some(pts) = pts {
            self.clock = Some(Anchor { pts, samples: 0 });
        }
        while pos < es.len() {
            let rest = &es[pos..];
            match self.sync(rest) {
                Ok(len) if len <= rest.len() => {
                    let frame = es.slice(pos..pos + len);
                    self.emit(frame, self.clock, out);
                    pos += len;
                }
                Ok(_) | Err(Sync::Incomplete) => {
                    self.carry.extend_from_slice(rest);
                    self.carry_clock = self.clock;
                    pos = es.len();
                }
                Err(Sync::NotHere) => {
                    let skip = self.next_header_offset(rest);
                    self.dropped(skip, out);
                    pos += skip;
                }
            }
        }
    }

    /// Drops a partly received frame (its continuation was lost, or the
    /// stream ended). Returns the bytes dropped.
    pub fn discard(&mut self) -> usize {
        let dropped = self.carry.len();
        self.carry.clear();
        dropped
    }

    /// The length of the frame at the start of `data`; a stream still
    /// being probed takes the framing whose sync it finds.
    fn sync(&mut self, data: &[u8]) -> Result<usize, Sync> {
        if self.framing == AudioFraming::Probe {
            self.framing = probe(data)?;
        }
        frame_len(self.framing, data)
    }

    fn dropped(&mut self, bytes: usize, out: &mut impl FnMut(AudioOutput)) {
        if self.framing == AudioFraming::Probe {
            self.probe_dropped += bytes as u64;
        }
        out(AudioOutput::Dropped(bytes));
    }

    /// Feeds the carried frame from the start of `es`; returns bytes used.
    fn complete_carry(&mut self, es: &[u8], out: &mut impl FnMut(AudioOutput)) -> usize {
        let before = self.carry.len();
        let peek = es.len().min(MAX_HEADER);
        self.carry.extend_from_slice(&es[..peek]);
        let carry = std::mem::take(&mut self.carry);
        let synced = self.sync(&carry);
        self.carry = carry;
        let len = match synced {
            Ok(len) => len,
            Err(Sync::Incomplete) if peek == es.len() => return es.len(),
            Err(_) => {
                // Not a frame after all: give the borrowed bytes back to `es`.
                self.carry.clear();
                self.dropped(before, out);
                return 0;
            }
        };
        let used = if len <= self.carry.len() {
            self.carry.truncate(len);
            len - before
        } else {
            let take = (len - self.carry.len()).min(es.len() - peek);
            self.carry.extend_from_slice(&es[peek..peek + take]);
            peek + take
        };
        if self.carry.len() >= len {
            let frame = Bytes::from(std::mem::take(&mut self.carry));
            self.emit(frame, self.carry_clock, out);
        }
        used
    }

    /// Hands out the packets of one whole frame.
    fn emit(&mut self, frame: Bytes, clock: Option<Anchor>, out: &mut impl FnMut(AudioOutput)) {
        let Some(anchor) = clock else {
            self.dropped(frame.len(), out);
            return;
        };
        let mut packets: Vec<(Bytes, u32)> = Vec::with_capacity(1);
        let Some(params) = self.unpack(&frame, &mut packets) else {
            self.dropped(frame.len(), out);
            return;
        };
        let params = params.on_track(self.track);
        if self.params.as_ref() != Some(&params) {
            self.params = Some(params.clone());
            out(AudioOutput::Params(params.clone()));
        }
        let mut at = anchor;
        for (data, samples) in packets {
            out(AudioOutput::Packet(AudioPacket {
                track: self.track,
                pts: at.pts_for(params.sample_rate),
                samples,
                data,
            }));
            at = at.after(samples);
        }
        // A carried frame advances the clock only if no new PTS came since.
        if self.clock == Some(anchor) {
            self.clock = Some(at);
        }
    }

    /// The parameters and packets (data, samples) of a whole frame; `None`
    /// for a frame that cannot be used.
    fn unpack(&mut self, frame: &Bytes, packets: &mut Vec<(Bytes, u32)>) -> Option<AudioParams> {
        match self.framing {
            AudioFraming::Adts => {
                let h = AdtsHeader::parse(frame).ok()?;
                let samples = FRAME_SAMPLES * u32::from(h.raw_blocks);
                let payload = frame.slice(h.header_len..);
                let params = if h.config.channel_config == 0 {
                    // The layout is in a program config element, which
                    // opens the first frame only.
                    let pce = ProgramConfig::from_raw_block(&payload);
                    if let Some(pce) = pce {
                        self.pce_params = Some(pce.audio_params(&h.config));
                    }
                    self.pce_params
                        .clone()
                        .unwrap_or_else(|| h.config.audio_params())
                } else {
                    h.config.audio_params()
                };
                packets.push((payload, samples));
                Some(params)
            }
            AudioFraming::Loas => {
                let mut payloads = Vec::new();
                self.latm.read_loas(frame, &mut payloads).ok()?;
                let params = self.latm.params()?.clone();
                let samples = params.frame_samples;
                packets.extend(payloads.into_iter().map(|p| (p, samples)));
                Some(params)
            }
            AudioFraming::Mpeg => {
                let h = MpaHeader::parse(frame).ok()?;
                packets.push((frame.clone(), h.samples));
                Some(h.audio_params())
            }
            AudioFraming::Ac3 => {
                let h = Ac3Header::parse(frame).ok()?;
                if h.codec == AudioCodec::Eac3 && (h.stream_type == 1 || h.substream_id != 0) {
                    self.other_substreams += 1;
                    return None;
                }
                packets.push((frame.clone(), h.samples));
                Some(h.audio_params())
            }
            AudioFraming::Opus { channels } => {
                let h = ControlHeader::parse(frame).ok()?;
                let au = frame.slice(h.header_len..);
                let samples = packet_samples(&au)?;
                packets.push((au.clone(), samples));
                let params = match &self.params {
                    // The pre-skip is the first unit's trim; later units
                    // keep the parameters announced.
                    Some(p) => p.clone(),
                    None => {
                        let stereo = au.first().is_some_and(|toc| toc & 0x04 != 0);
                        let channels = channels.unwrap_or(if stereo { 2 } else { 1 });
                        OpusConfig::for_channels(channels, h.start_trim).audio_params(samples)
                    }
                };
                Some(params)
            }
            AudioFraming::Probe => None,
        }
    }

    /// Offset of the next byte that may start a frame (or the end).
    fn next_header_offset(&mut self, data: &[u8]) -> usize {
        let framing = self.framing;
        (1..data.len())
            .find(|&at| {
                let first = data[at];
                let candidate = matches!(first, 0xff | 0x0b | 0x56 | 0x7f);
                candidate
                    && match framing {
                        AudioFraming::Probe => probe(&data[at..]).is_ok_or_incomplete(),
                        f => frame_len(f, &data[at..]).is_ok_or_incomplete(),
                    }
            })
            .unwrap_or(data.len())
    }
}

trait OkOrIncomplete {
    fn is_ok_or_incomplete(&self) -> bool;
}

impl<T> OkOrIncomplete for Result<T, Sync> {
    fn is_ok_or_incomplete(&self) -> bool {
        !matches!(self, Err(Sync::NotHere))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_stream::adts_frame;

    fn split(
        splitter: &mut AudioSplitter,
        es: &[u8],
        pts: Option<i64>,
    ) -> (Vec<AudioPacket>, usize) {
        let (mut frames, mut dropped) = (Vec::new(), 0);
        splitter.push(Bytes::copy_from_slice(es), pts, &mut |o| match o {
            AudioOutput::Packet(f) => frames.push(f),
            AudioOutput::Dropped(n) => dropped += n,
            AudioOutput::Params(_) => {}
        });
        (frames, dropped)
    }

    fn adts() -> AudioSplitter {
        AudioSplitter::new(0, AudioFraming::Adts)
    }

    #[test]
    fn several_frames_per_pes_get_spaced_pts() {
        let es: Vec<u8> = (0..3).flat_map(|i| adts_frame(44100, 100 + i)).collect();
        let (frames, dropped) = split(&mut adts(), &es, Some(1000));
        assert_eq!(dropped, 0);
        let pts: Vec<i64> = frames.iter().map(|f| f.pts).collect();
        // 1024 * 90000 / 44100 = 2089.8 per frame
        assert_eq!(pts, vec![1000, 3090, 5180]);
        assert_eq!(frames[2].data.len(), 102, "the ADTS header is removed");
    }

    #[test]
    fn frames_split_across_pes_are_joined() {
        let es: Vec<u8> = (0..2).flat_map(|_| adts_frame(48000, 50)).collect();
        let mut s = adts();
        for cut in [3, 30, 57, 60] {
            let (a, _) = split(&mut s, &es[..cut], Some(0));
            let (b, dropped) = split(&mut s, &es[cut..], None);
            let all: Vec<_> = a.into_iter().chain(b).collect();
            assert_eq!(dropped, 0, "cut {cut}");
            assert_eq!(
                all.iter().map(|f| f.pts).collect::<Vec<_>>(),
                vec![0, 1920],
                "cut {cut}"
            );
            assert_eq!(all[1].data, es[57 + 7..], "cut {cut}");
        }
    }

    #[test]
    fn garbage_is_skipped_and_counted() {
        let mut es = vec![1, 2, 0xff, 3];
        es.extend(adts_frame(48000, 20));
        let (frames, dropped) = split(&mut adts(), &es, Some(5));
        assert_eq!((frames.len(), dropped, frames[0].pts), (1, 4, 5));
    }

    /// MPEG-1 layer II frames, 48 kHz mono 64 kbit/s (192 bytes each).
    fn mp2_frames(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| {
                let mut f = vec![0xff, 0xfd, 0x44, 0xc4];
                f.extend((4..192).map(|j| ((i + j) % 200) as u8 + 1));
                f
            })
            .collect()
    }

    #[test]
    fn private_data_is_probed_and_mpeg_audio_kept_whole() {
        let mut s = AudioSplitter::new(2, AudioFraming::Probe);
        let mut params = Vec::new();
        let mut packets = Vec::new();
        s.push(Bytes::from(mp2_frames(3)), Some(0), &mut |o| match o {
            AudioOutput::Params(p) => params.push(p),
            AudioOutput::Packet(p) => packets.push(p),
            AudioOutput::Dropped(n) => panic!("dropped {n}"),
        });
        assert_eq!(params.len(), 1);
        assert_eq!((params[0].codec, params[0].track), (AudioCodec::Mp2, 2));
        assert_eq!(packets.len(), 3);
        assert_eq!(packets[1].pts, 2160);
        assert_eq!(
            packets[0].data.len(),
            192,
            "MPEG audio frames keep their header"
        );
    }

    #[test]
    fn opus_control_headers_are_removed() {
        let mut s = AudioSplitter::new(0, AudioFraming::Opus { channels: Some(1) });
        let mut es = vec![0x7f, 0xf0, 0x03, 0x01, 0x38, 0xfc, 1, 2];
        es.extend([0x7f, 0xe0, 0x02, 0xfc, 9]);
        let mut params = Vec::new();
        let mut packets = Vec::new();
        s.push(Bytes::from(es), Some(90), &mut |o| match o {
            AudioOutput::Params(p) => params.push(p),
            AudioOutput::Packet(p) => packets.push(p),
            AudioOutput::Dropped(n) => panic!("dropped {n}"),
        });
        assert_eq!(params.len(), 1, "the pre-skip does not change later");
        let config = OpusConfig::from_dops(&params[0].extra_data).unwrap();
        assert_eq!((config.channels, config.pre_skip), (1, 312));
        let got: Vec<(i64, u32, &[u8])> = packets
            .iter()
            .map(|p| (p.pts, p.samples, &p.data[..]))
            .collect();
        assert_eq!(
            got,
            vec![(90, 960, &[0xfc, 1, 2][..]), (1890, 960, &[0xfc, 9][..])]
        );
    }

    #[test]
    fn data_that_is_not_audio_is_found_out() {
        let mut s = AudioSplitter::new(0, AudioFraming::Probe);
        let junk: Vec<u8> = (0..70_000u32).map(|i| (i % 7) as u8 + 0x20).collect();
        let (frames, dropped) = split(&mut s, &junk, Some(0));
        assert_eq!((frames.len(), dropped), (0, junk.len()));
        assert!(s.is_not_audio());
    }
}
