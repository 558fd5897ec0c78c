//! Which streams openh264 can decode at all.
//!
//! openh264 decodes progressive 8-bit 4:2:0 (Baseline, Main and High
//! profiles). Anything else fails at the first slice with an opaque error
//! code, which would look like endless corruption. The trap is common with
//! screen sharing: libx264 fed an RGB screen grab (x11grab, gdigrab,
//! avfoundation) picks 4:4:4 (High 4:4:4 Predictive) unless the sender asks
//! for `-pix_fmt yuv420p`. So the SPS is checked first and the stream is
//! refused with a message that says what to change.

use std::fmt;

use cht_core::h264::Sps;

/// A stream format openh264 cannot decode, from the stream's SPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsupportedFormat {
    sps: Sps,
}

impl UnsupportedFormat {
    /// `Some` when openh264 cannot decode a stream with this SPS.
    pub fn check(sps: &Sps) -> Option<UnsupportedFormat> {
        let decodable = sps.chroma_format_idc == 1
            && sps.bit_depth_luma == 8
            && sps.bit_depth_chroma == 8
            && sps.frame_mbs_only;
        (!decodable).then_some(UnsupportedFormat { sps: *sps })
    }

    /// The SPS that describes the format.
    pub fn sps(&self) -> &Sps {
        &self.sps
    }

    fn chroma(&self) -> &'static str {
        match self.sps.chroma_format_idc {
            0 => "4:0:0 (monochrome)",
            1 => "4:2:0",
            2 => "4:2:2",
            _ => "4:4:4",
        }
    }
}

impl fmt::Display for UnsupportedFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.sps;
        write!(
            f,
            "the video is H.264 {} {}x{}, {} {}-bit{}, and openh264 decodes only \
             progressive 8-bit 4:2:0: have the sender encode with `-pix_fmt yuv420p` \
             (libx264 picks 4:4:4 for RGB screen grabs)",
            s.profile_name(),
            s.width,
            s.height,
            self.chroma(),
            s.bit_depth_luma,
            if s.frame_mbs_only { "" } else { ", interlaced" },
        )
    }
}
