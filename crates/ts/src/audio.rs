//! ADTS framing of the AAC elementary stream: PES payloads in, one
//! [`AudioPacket`] (the raw AAC frame, its ADTS header removed) per ADTS
//! frame out.
//!
//! A PES may hold several frames, and a frame may continue into the next
//! PES; the splitter joins such frames. Bytes that are not ADTS are skipped
//! up to the next valid header and reported as dropped.
//!
//! Timing: a PES with a PTS anchors the clock; each frame that starts after it
//! gets `PTS + samples_so_far * 90000 / sample_rate` (rounded), so PES without
//! a PTS continue the timeline and 44.1 kHz does not accumulate rounding.

use bytes::Bytes;
use cht_core::aac::{AacConfig, AdtsError, AdtsHeader, FRAME_SAMPLES};
use cht_core::{AudioPacket, AudioParams, CLOCK_HZ};

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

    fn after(self, header: &AdtsHeader) -> Anchor {
        let samples = u64::from(FRAME_SAMPLES) * u64::from(header.raw_blocks);
        Anchor {
            samples: self.samples + samples,
            ..self
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct AdtsSplitter {
    /// Start of a frame that continues in the next PES (at most one frame).
    carry: Vec<u8>,
    /// The clock when the carried frame started.
    carry_clock: Option<Anchor>,
    clock: Option<Anchor>,
    config: Option<AacConfig>,
}

impl AdtsSplitter {
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
            match AdtsHeader::parse(rest) {
                Ok(header) if header.frame_len <= rest.len() => {
                    let frame = es.slice(pos..pos + header.frame_len);
                    self.emit(header, frame, self.clock, out);
                    pos += header.frame_len;
                }
                Ok(_) | Err(AdtsError::Incomplete) => {
                    self.carry.extend_from_slice(rest);
                    self.carry_clock = self.clock;
                    pos = es.len();
                }
                Err(AdtsError::NoSync | AdtsError::Invalid(_)) => {
                    let skip = next_header_offset(rest);
                    out(AudioOutput::Dropped(skip));
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

    /// Feeds the carried frame from the start of `es`; returns bytes used.
    fn complete_carry(&mut self, es: &[u8], out: &mut impl FnMut(AudioOutput)) -> usize {
        let before = self.carry.len();
        let header_part = AdtsHeader::MIN_LEN.saturating_sub(before).min(es.len());
        self.carry.extend_from_slice(&es[..header_part]);
        let header = match AdtsHeader::parse(&self.carry) {
            Ok(header) => header,
            Err(AdtsError::Incomplete) => return es.len(),
            Err(_) => {
                // Not a frame after all: give the borrowed bytes back to `es`.
                self.carry.clear();
                out(AudioOutput::Dropped(before));
                return 0;
            }
        };
        let used = header_part;
        let take = header
            .frame_len
            .saturating_sub(self.carry.len())
            .min(es.len() - used);
        self.carry.extend_from_slice(&es[used..used + take]);
        if self.carry.len() >= header.frame_len {
            let frame = Bytes::from(std::mem::take(&mut self.carry));
            self.emit(header, frame, self.carry_clock, out);
        }
        used + take
    }

    fn emit(
        &mut self,
        header: AdtsHeader,
        data: Bytes,
        clock: Option<Anchor>,
        out: &mut impl FnMut(AudioOutput),
    ) {
        let Some(anchor) = clock else {
            out(AudioOutput::Dropped(data.len()));
            return;
        };
        // A carried frame advances the clock only if no new PTS came since.
        if self.clock == Some(anchor) {
            self.clock = Some(anchor.after(&header));
        }
        if self.config != Some(header.config) {
            self.config = Some(header.config);
            out(AudioOutput::Params(header.config.audio_params()));
        }
        out(AudioOutput::Packet(AudioPacket {
            pts: anchor.pts_for(header.config.sample_rate),
            samples: FRAME_SAMPLES * u32::from(header.raw_blocks),
            data: data.slice(header.header_len..),
        }));
    }
}

/// Offset of the next byte that may start an ADTS header (or the end).
fn next_header_offset(data: &[u8]) -> usize {
    let mut i = 1;
    while let Some(offset) = data.get(i..).and_then(|rest| memchr::memchr(0xff, rest)) {
        let at = i + offset;
        if matches!(
            AdtsHeader::parse(&data[at..]),
            Ok(_) | Err(AdtsError::Incomplete)
        ) {
            return at;
        }
        i = at + 1;
    }
    data.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_stream::adts_frame;

    fn split(
        splitter: &mut AdtsSplitter,
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

    #[test]
    fn several_frames_per_pes_get_spaced_pts() {
        let es: Vec<u8> = (0..3).flat_map(|i| adts_frame(44100, 100 + i)).collect();
        let (frames, dropped) = split(&mut AdtsSplitter::default(), &es, Some(1000));
        assert_eq!(dropped, 0);
        let pts: Vec<i64> = frames.iter().map(|f| f.pts).collect();
        // 1024 * 90000 / 44100 = 2089.8 per frame
        assert_eq!(pts, vec![1000, 3090, 5180]);
        assert_eq!(frames[2].data.len(), 102, "the ADTS header is removed");
    }

    #[test]
    fn frames_split_across_pes_are_joined() {
        let es: Vec<u8> = (0..2).flat_map(|_| adts_frame(48000, 50)).collect();
        let mut s = AdtsSplitter::default();
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
        let (frames, dropped) = split(&mut AdtsSplitter::default(), &es, Some(5));
        assert_eq!((frames.len(), dropped, frames[0].pts), (1, 4, 5));
    }
}
