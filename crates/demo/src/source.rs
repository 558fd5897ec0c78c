//! The demo stream as a pull source: each call renders, encodes and muxes
//! one video frame plus the audio that falls before the next one.

use cht_core::CLOCK_HZ;

use crate::audio_loop::AacLoop;
use crate::renderer::SlideRenderer;
use crate::stats::DemoStats;
use crate::ts_mux::{TsMuxer, VideoPes};
use crate::video_encoder::VideoEncoder;
use crate::{DemoError, DemoOptions};

/// First PTS of both tracks: 1.4 s, like ffmpeg's mpegts muxer.
pub const START_PTS: u64 = 126_000;
/// The PCR runs this far behind the video DTS (ffmpeg's default 0.7 s
/// `max_delay`), the decoder buffer a receiver is given.
const PCR_LEAD: u64 = 63_000;
/// PAT and PMT are repeated at least this often (100 ms).
const TABLE_INTERVAL: u64 = CLOCK_HZ as u64 / 10;
/// Longest time between IDRs when no slide switch forces one.
const MAX_IDR_INTERVAL_SECS: u64 = 2;

/// Generates the demo MPEG-TS stream on demand, as fast as the caller pulls.
pub struct DemoSource {
    opts: DemoOptions,
    renderer: SlideRenderer,
    encoder: VideoEncoder,
    audio: AacLoop,
    mux: TsMuxer,
    next_frame: u64,
    last_idr: u64,
    last_tables: Option<u64>,
    stats: DemoStats,
}

impl DemoSource {
    /// A source with these options (the encoder is started here).
    pub fn new(opts: DemoOptions) -> Result<DemoSource, DemoError> {
        opts.validate()?;
        let renderer = SlideRenderer::new(
            opts.width as usize,
            opts.height as usize,
            opts.fps,
            opts.frames_per_slide(),
        );
        let encoder = VideoEncoder::new(opts.width, opts.height, opts.fps)?;
        Ok(DemoSource {
            renderer,
            encoder,
            audio: AacLoop::embedded()?,
            mux: TsMuxer::new(),
            next_frame: 0,
            last_idr: 0,
            last_tables: None,
            stats: DemoStats::default(),
            opts,
        })
    }

    /// Next chunk of TS bytes (tables when due, one video frame, the audio
    /// up to the next frame) and its media time in seconds from the first
    /// frame; `None` once `duration` is reached.
    pub fn next_chunk(&mut self) -> Result<Option<(f64, Vec<u8>)>, DemoError> {
        let n = self.next_frame;
        if self.opts.total_frames().is_some_and(|total| n >= total) {
            return Ok(None);
        }
        let pts = self.video_pts(n);
        let mut out = Vec::with_capacity(64 * 1024);
        if self
            .last_tables
            .is_none_or(|last| pts - last >= TABLE_INTERVAL)
        {
            self.mux.write_tables(&mut out)?;
            self.last_tables = Some(pts);
        }
        self.write_video_frame(n, pts, &mut out)?;
        self.write_audio_until(self.video_pts(n + 1), &mut out)?;
        self.next_frame += 1;
        self.stats.bytes += out.len() as u64;
        let media_time = n as f64 / self.opts.fps as f64;
        self.stats.media_secs = (n + 1) as f64 / self.opts.fps as f64;
        Ok(Some((media_time, out)))
    }

    /// What has been produced so far.
    pub fn stats(&self) -> DemoStats {
        self.stats.clone()
    }

    /// The options it runs with.
    pub fn options(&self) -> &DemoOptions {
        &self.opts
    }

    /// PTS of video frame `n`, from `n` directly so it never drifts.
    fn video_pts(&self, n: u64) -> u64 {
        START_PTS + n * CLOCK_HZ as u64 / self.opts.fps as u64
    }

    fn write_video_frame(&mut self, n: u64, pts: u64, out: &mut Vec<u8>) -> Result<(), DemoError> {
        let frame_in_slide = n % self.opts.frames_per_slide();
        let slide_switch = frame_in_slide == 0;
        let idr_due = n - self.last_idr >= MAX_IDR_INTERVAL_SECS * self.opts.fps as u64;
        let picture = self.renderer.render(n);
        let frame = self.encoder.encode(picture, slide_switch || idr_due)?;
        if frame.keyframe {
            self.last_idr = n;
            self.stats.keyframes += 1;
        }
        let pes = VideoPes {
            pts,
            pcr: pts.saturating_sub(PCR_LEAD),
            keyframe: frame.keyframe,
            data: &frame.access_unit,
        };
        self.mux.write_video(pes, out)?;
        self.stats.video_frames += 1;
        Ok(())
    }

    /// Muxes every audio frame whose PTS falls before `end_pts`, one ADTS
    /// frame per PES.
    fn write_audio_until(&mut self, end_pts: u64, out: &mut Vec<u8>) -> Result<(), DemoError> {
        while START_PTS + self.audio.next_offset_ticks() < end_pts {
            let pts = START_PTS + self.audio.next_offset_ticks();
            let frame = self.audio.next_frame();
            self.mux.write_audio(pts, frame, out)?;
            self.stats.audio_frames += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ts_mux::{AUDIO_PID, PMT_PID, VIDEO_PID};
    use crate::video_encoder::ACCESS_UNIT_DELIMITER;
    use cht_core::h264::{annexb_nals, nal_type, nal_unit_type};
    use mpeg2ts::ts::{ReadTsPacket, TsPacketReader, TsPayload};
    use std::time::Duration;

    fn small(secs: u64) -> DemoOptions {
        DemoOptions {
            width: 320,
            height: 180,
            fps: 30,
            slide_secs: 0.5,
            duration: Some(Duration::from_secs(secs)),
        }
    }

    #[test]
    fn chunks_carry_one_frame_each_with_steady_media_time_and_then_end() {
        let mut source = DemoSource::new(small(1)).unwrap();
        let mut times = Vec::new();
        while let Some((t, chunk)) = source.next_chunk().unwrap() {
            assert_eq!(chunk.len() % 188, 0);
            times.push(t);
        }
        assert_eq!(times.len(), 30);
        assert!(times
            .iter()
            .enumerate()
            .all(|(i, &t)| (t - i as f64 / 30.0).abs() < 1e-9));
        assert!(source.next_chunk().unwrap().is_none(), "stays finished");
        let stats = source.stats();
        assert_eq!(
            (stats.video_frames, stats.keyframes),
            (30, 2),
            "IDR at 0 and at the 0.5 s switch"
        );
        assert_eq!(stats.audio_frames, 47, "ceil(1 s * 48000 / 1024)");
    }

    #[test]
    fn stream_layout_matches_what_ffmpeg_sends() {
        let mut source = DemoSource::new(small(1)).unwrap();
        let mut stream = Vec::new();
        while let Some((_, chunk)) = source.next_chunk().unwrap() {
            stream.extend_from_slice(&chunk);
        }
        let mut reader = TsPacketReader::new(&stream[..]);
        let (mut pats, mut pcrs, mut units) = (0, Vec::new(), Vec::<(bool, Vec<u8>)>::new());
        while let Some(p) = reader.read_ts_packet().unwrap() {
            let pid = p.header.pid.as_u16();
            assert!([0, PMT_PID, VIDEO_PID, AUDIO_PID].contains(&pid));
            if let Some(pcr) = p.adaptation_field.as_ref().and_then(|f| f.pcr) {
                assert_eq!(pid, VIDEO_PID, "PCR only on video");
                pcrs.push(pcr.as_u64() / 300);
            }
            match (pid, p.payload) {
                (0, Some(TsPayload::Pat(_))) => pats += 1,
                (VIDEO_PID, Some(TsPayload::PesStart(pes))) => {
                    let dts = pes.header.dts.expect("video DTS").as_u64();
                    assert!(pcrs.last().is_some_and(|&pcr| pcr < dts), "PCR before DTS");
                    let random_access = p
                        .adaptation_field
                        .is_some_and(|f| f.random_access_indicator);
                    units.push((random_access, pes.data.to_vec()));
                }
                (VIDEO_PID, Some(TsPayload::PesContinuation(b))) => {
                    units.last_mut().unwrap().1.extend_from_slice(&b)
                }
                _ => {}
            }
        }
        assert_eq!(pats, 10, "PAT every 100 ms");
        assert_eq!(pcrs.len(), 30, "a PCR with every picture");
        assert!(pcrs.windows(2).all(|w| w[0] < w[1]));
        for (i, (random_access, au)) in units.iter().enumerate() {
            assert!(
                au.starts_with(&ACCESS_UNIT_DELIMITER),
                "AU {i} starts with an AUD"
            );
            let types: Vec<u8> = annexb_nals(au).map(nal_unit_type).collect();
            let idr = types.contains(&nal_type::IDR);
            assert_eq!(*random_access, idr, "AU {i}");
            if idr {
                assert_eq!(
                    &types[..3],
                    &[nal_type::AUD, nal_type::SPS, nal_type::PPS],
                    "AU {i}"
                );
            }
        }
    }

    #[test]
    fn source_can_move_to_a_sender_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<DemoSource>();
    }

    #[test]
    fn invalid_options_are_refused_before_any_work() {
        let opts = DemoOptions {
            width: 100,
            height: 101,
            ..DemoOptions::default()
        };
        assert!(matches!(
            DemoSource::new(opts),
            Err(DemoError::InvalidOptions(_))
        ));
    }
}
