//! H.264's parameter-set parser: Annex-B and length-prefixed NAL units, the
//! SPS (read through the VUI) and the `avcC` decoder configuration record.
//!
//! This is the H.264 part of "a codec = a parameter-set parser + an MP4
//! sample entry + (optionally) a decoder": the TS demuxer and the MP4 reader
//! build [`crate::VideoParams`] with it, the fMP4 writer's `avc1` sample
//! entry and the decoder read them back with it.

mod avcc;
mod nal;
mod slice;
mod sps;

pub use avcc::{AvcConfigError, AvcDecoderConfig};
pub use nal::{
    annexb_nals, annexb_to_avcc, avcc_to_annexb, is_disposable, is_idr_access_unit, is_intra_slice,
    length_prefixed_nals, nal_ref_idc, nal_to_rbsp, nal_type, nal_unit_type, rbsp_to_nal,
    sei_has_recovery_point, AnnexBNals,
};
pub use slice::{
    parse_pps, parse_slice_header, ListModification, MemoryOperation, Pps, SliceHeader, SliceKind,
};
pub use sps::{parse_sps, sps_allowing_frame_num_gaps, PictureNumbering, Sps};

use crate::params::{PacketFormat, VideoCodec, VideoParams};

/// The codec parameters of an H.264 track whose packets are `format`,
/// described by `config`; the size comes from its first SPS. `None` when
/// that SPS does not parse.
pub fn video_params(config: &AvcDecoderConfig, format: PacketFormat) -> Option<VideoParams> {
    let sps = config.first_sps()?;
    Some(VideoParams {
        codec: VideoCodec::H264,
        width: sps.width,
        height: sps.height,
        format,
        extra_data: config.to_bytes().into(),
    })
}
