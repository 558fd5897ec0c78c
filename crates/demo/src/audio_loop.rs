//! The demo's sound: a short AAC-LC ADTS clip embedded in the binary and
//! repeated forever with continuous timestamps.
//!
//! `assets/loop.aac` (48 kHz mono, 64 kb/s, 421 frames, ~9 s) was made once
//! with Debian's espeak-ng and ffmpeg: a spoken sentence, a pause and a
//! three-note chime, then a second of silence before the loop restarts:
//!
//! ```text
//! espeak-ng -s 150 -w speech.wav "This is the c h t demo. Slides change every few seconds, and this voice loops."
//! ffmpeg -i speech.wav -f lavfi -i sine=f=523.25:d=0.25 -f lavfi -i sine=f=659.25:d=0.25 \
//!   -f lavfi -i sine=f=783.99:d=0.5 -f lavfi -i anullsrc=r=48000:cl=mono:d=0.8 \
//!   -f lavfi -i anullsrc=r=48000:cl=mono:d=1.0 -filter_complex "...concat=n=6:v=0:a=1" \
//!   -ar 48000 -ac 1 -c:a aac -b:a 64k -f adts loop.aac
//! ```

use std::ops::Range;

use cht_core::aac::{AacConfig, AdtsHeader};
use cht_core::CLOCK_HZ;

use crate::DemoError;

static LOOP_AAC: &[u8] = include_bytes!("../assets/loop.aac");

/// An endless sequence of ADTS frames cut from one embedded clip.
#[derive(Debug, Clone)]
pub struct AacLoop {
    data: &'static [u8],
    frames: Vec<Range<usize>>,
    config: AacConfig,
    /// Frames handed out so far; frame `k` starts at sample `k * 1024`.
    emitted: u64,
}

impl AacLoop {
    /// The clip that ships with the crate.
    pub fn embedded() -> Result<AacLoop, DemoError> {
        AacLoop::from_adts(LOOP_AAC)
    }

    /// Splits an ADTS clip into frames. Every frame must share one
    /// configuration and hold exactly one raw data block, so that each frame
    /// advances the clock by exactly 1024 samples.
    pub fn from_adts(data: &'static [u8]) -> Result<AacLoop, DemoError> {
        let bad = |why: String| DemoError::AudioLoop(why);
        let mut frames = Vec::new();
        let mut config = None;
        let mut pos = 0;
        while pos < data.len() {
            let header =
                AdtsHeader::parse(&data[pos..]).map_err(|e| bad(format!("at byte {pos}: {e}")))?;
            let end = pos + header.frame_len;
            if end > data.len() {
                return Err(bad(format!("frame at byte {pos} is truncated")));
            }
            if header.raw_blocks != 1 {
                return Err(bad(format!(
                    "frame at byte {pos} holds {} raw blocks",
                    header.raw_blocks
                )));
            }
            if *config.get_or_insert(header.config) != header.config {
                return Err(bad(format!("configuration changes at byte {pos}")));
            }
            frames.push(pos..end);
            pos = end;
        }
        let config = config.ok_or_else(|| bad("no ADTS frames".into()))?;
        Ok(AacLoop {
            data,
            frames,
            config,
            emitted: 0,
        })
    }

    #[cfg(test)]
    pub fn config(&self) -> AacConfig {
        self.config
    }

    /// Frames in one pass of the clip.
    #[cfg(test)]
    pub fn frames_per_loop(&self) -> usize {
        self.frames.len()
    }

    /// Offset in 90 kHz ticks of frame `k` from the first frame; computed
    /// from `k` directly so fractional frame durations (44.1 kHz) never drift.
    pub fn offset_ticks(&self, k: u64) -> u64 {
        let samples = k as u128 * cht_core::aac::FRAME_SAMPLES as u128;
        (samples * CLOCK_HZ as u128 / self.config.sample_rate as u128) as u64
    }

    /// Offset of the next frame that [`AacLoop::next_frame`] will return.
    pub fn next_offset_ticks(&self) -> u64 {
        self.offset_ticks(self.emitted)
    }

    /// The next whole ADTS frame, header included.
    pub fn next_frame(&mut self) -> &'static [u8] {
        let range = self.frames[(self.emitted % self.frames.len() as u64) as usize].clone();
        self.emitted += 1;
        &self.data[range]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_clip_is_48k_aac_lc_and_loops_seamlessly() {
        let mut aac = AacLoop::embedded().expect("embedded clip parses");
        let c = aac.config();
        assert_eq!((c.object_type, c.sample_rate), (2, 48000));
        let n = aac.frames_per_loop();
        assert!(n > 100, "{n} frames");
        let first = aac.next_frame();
        for _ in 1..n {
            aac.next_frame();
        }
        assert_eq!(aac.next_offset_ticks(), n as u64 * 1920);
        assert_eq!(
            aac.next_frame(),
            first,
            "second pass starts with the first frame"
        );
    }

    #[test]
    fn rejects_a_truncated_clip() {
        let cut: &'static [u8] = &LOOP_AAC[..LOOP_AAC.len() - 3];
        assert!(matches!(
            AacLoop::from_adts(cut),
            Err(DemoError::AudioLoop(_))
        ));
        assert!(matches!(
            AacLoop::from_adts(&[]),
            Err(DemoError::AudioLoop(_))
        ));
    }

    #[test]
    fn fractional_frame_durations_do_not_drift() {
        let mut aac = AacLoop::embedded().expect("embedded clip parses");
        aac.config.sample_rate = 44100;
        // 44100 frames of 1024 samples last exactly 1024 s.
        assert_eq!(aac.offset_ticks(44100), 1024 * 90_000);
    }
}
