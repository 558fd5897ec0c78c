//! H.264 encoding of the demo pictures with openh264's encoder (Baseline
//! profile, no B-frames), shaped like a live screen-share sender: an access
//! unit delimiter first, SPS/PPS before every IDR, IDRs where we ask.

use openh264::encoder::{
    BitRate, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, RateControlMode,
    UsageType, VuiConfig,
};
use openh264::OpenH264API;

use crate::picture::Picture;
use crate::DemoError;

/// Access unit delimiter, `primary_pic_type` 7 (any), as ffmpeg writes it.
pub const ACCESS_UNIT_DELIMITER: [u8; 6] = [0, 0, 0, 1, 0x09, 0xf0];

/// One encoded picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedFrame {
    /// Annex-B access unit, starting with an access unit delimiter.
    pub access_unit: Vec<u8>,
    /// An IDR picture (SPS and PPS included).
    pub keyframe: bool,
}

/// openh264 with deterministic, cut-friendly settings.
pub struct VideoEncoder {
    encoder: Encoder,
    frames: u64,
}

impl VideoEncoder {
    /// Bitrate scaled from 1.5 Mb/s at 1280x720, 30 fps.
    pub fn new(width: u32, height: u32, fps: u32) -> Result<VideoEncoder, DemoError> {
        let pixels_per_sec = width as u64 * height as u64 * fps as u64;
        let bps =
            (1_500_000 * pixels_per_sec / (1280 * 720 * 30)).clamp(200_000, 12_000_000) as u32;
        let config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(bps))
            .max_frame_rate(FrameRate::from_hz(fps as f32))
            .rate_control_mode(RateControlMode::Bufferbased)
            .usage_type(UsageType::CameraVideoRealTime)
            // Every frame must come out: a skipped frame would leave a hole.
            .skip_frames(false)
            // Keyframes come only from `encode(.., force_idr)`, so cuts are
            // where the slides switch and nowhere else.
            .scene_change_detect(false)
            .intra_frame_period(IntraFramePeriod::from_num_frames(0))
            .background_detection(false)
            .num_threads(1)
            .vui(VuiConfig::bt709());
        let encoder = Encoder::with_api_config(OpenH264API::from_source(), config)?;
        Ok(VideoEncoder { encoder, frames: 0 })
    }

    /// Encodes one picture; `force_idr` makes it an IDR access unit.
    pub fn encode(
        &mut self,
        picture: &Picture,
        force_idr: bool,
    ) -> Result<EncodedFrame, DemoError> {
        // The first picture is an IDR anyway, and openh264 only accepts
        // requests once its first `encode` has initialised it.
        if force_idr && self.frames > 0 {
            self.encoder.force_intra_frame();
        }
        let bitstream = self.encoder.encode(picture)?;
        let keyframe = match bitstream.frame_type() {
            FrameType::IDR => true,
            FrameType::I | FrameType::P | FrameType::IPMixed => false,
            other => {
                return Err(DemoError::EncoderOutput(format!(
                    "frame {} came out as {other:?}",
                    self.frames
                )));
            }
        };
        let mut access_unit = ACCESS_UNIT_DELIMITER.to_vec();
        bitstream.write_vec(&mut access_unit);
        self.frames += 1;
        Ok(EncodedFrame {
            access_unit,
            keyframe,
        })
    }
}
