//! Garbage as an H.264 GOP through the slice-header reader and the
//! reference model that decide which pictures may be left undecoded
//! (`VideoDecoder::plan_gop`): never a panic, and every optional picture
//! is a reference picture (never a disposable one).
#![no_main]
use bytes::Bytes;
use cht_core::h264::{annexb_nals, nal_type, nal_unit_type, video_params, AvcDecoderConfig};
use cht_core::{PacketFormat, PacketRole, VideoDecoder, VideoPacket};
use cht_h264::H264Decoder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The track's parameter sets: the first SPS and PPS of the input.
    let find = |t| annexb_nals(data).find(|n| nal_unit_type(n) == t);
    let (Some(sps), Some(pps)) = (find(nal_type::SPS), find(nal_type::PPS)) else {
        return;
    };
    let config = AvcDecoderConfig::from_parameter_sets(
        Bytes::copy_from_slice(sps),
        Bytes::copy_from_slice(pps),
    );
    let Some(params) = config.and_then(|c| video_params(&c, PacketFormat::Elementary)) else {
        return;
    };
    let Ok(mut decoder) = H264Decoder::for_params(&params) else {
        return;
    };
    // One packet per coded slice NAL unit, the first one the keyframe.
    let packets: Vec<VideoPacket> = annexb_nals(data)
        .filter(|n| matches!(nal_unit_type(n), 1 | 5))
        .enumerate()
        .map(|(i, nal)| {
            let mut au = vec![0, 0, 0, 1];
            au.extend_from_slice(nal);
            VideoPacket {
                pts: i as i64 * 3000,
                dts: i as i64 * 3000,
                keyframe: i == 0,
                damaged: false,
                data: Bytes::from(au),
            }
        })
        .collect();
    let roles = decoder.plan_gop(&packets);
    assert_eq!(roles.len(), packets.len());
    for (packet, role) in packets.iter().zip(roles) {
        if role == PacketRole::Optional {
            assert!(!decoder.is_disposable(packet));
        }
    }
});
