//! Optional reference pictures (x264's B-pyramid middle B-frames that no
//! P-frame refers to) left undecoded: every picture still decoded must be
//! bit-identical to the same picture of a full decode, for x264 settings
//! that make them optional and for settings where P-frames do refer to
//! them (which must then not be called optional).

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use cht_core::h264::{
    annexb_nals, annexb_to_avcc, nal_type, nal_unit_type, video_params, AvcDecoderConfig,
};
use cht_core::{PacketFormat, PacketRole, Picture, VideoDecoder, VideoPacket, VideoParams};
use cht_h264::H264Decoder;
use support::{access_units_of, x264_testsrc};

/// 4 s of testsrc2 (motion everywhere, so a wrong reference shows in the
/// pixels) with x264 `preset` and `x264_params`, two GOPs.
fn encode(dir: &Path, name: &str, preset: &str, x264_params: &str) -> PathBuf {
    let args = ["-preset", preset, "-g", "60", "-x264-params", x264_params];
    x264_testsrc(dir, name, 120, &args)
}

/// The track's parameters as the TS demuxer gives them: Annex-B packets
/// and the first SPS and PPS as the `avcC` record.
fn params_of(aus: &[VideoPacket]) -> VideoParams {
    let first = &aus[0].data;
    let find =
        |t| Bytes::copy_from_slice(annexb_nals(first).find(|n| nal_unit_type(n) == t).unwrap());
    let config =
        AvcDecoderConfig::from_parameter_sets(find(nal_type::SPS), find(nal_type::PPS)).unwrap();
    video_params(&config, PacketFormat::Elementary).unwrap()
}

fn gops(aus: &[VideoPacket]) -> Vec<&[VideoPacket]> {
    let starts: Vec<usize> = (0..aus.len()).filter(|&i| aus[i].keyframe).collect();
    starts
        .iter()
        .zip(starts.iter().skip(1).chain([&aus.len()]))
        .map(|(&a, &b)| &aus[a..b])
        .collect()
}

type Planes = (Vec<u8>, Vec<u8>, Vec<u8>);

fn planes(p: &Picture) -> Planes {
    (p.y.to_vec(), p.u.to_vec(), p.v.to_vec())
}

/// Every picture, each GOP decoded on its own (as the offline analysis does).
fn full_decode(params: &VideoParams, aus: &[VideoPacket]) -> BTreeMap<i64, Planes> {
    let mut decoder = H264Decoder::for_params(params).unwrap();
    let mut pictures = BTreeMap::new();
    for gop in gops(aus) {
        for au in gop {
            decoder
                .decode(au, &mut |p| drop(pictures.insert(p.pts, planes(&p))))
                .unwrap();
        }
        decoder.end_gop(&mut |p| drop(pictures.insert(p.pts, planes(&p))));
    }
    pictures
}

/// Disposable pictures skipped; optional ones decoded when `decode_optional`
/// says so (given their index among the optional ones). Returns the
/// pictures in the order they came out and how many packets were optional.
fn planned_decode(
    params: &VideoParams,
    aus: &[VideoPacket],
    decode_optional: impl Fn(usize) -> bool,
) -> (Vec<(i64, Planes)>, usize) {
    let mut decoder = H264Decoder::for_params(params).unwrap();
    let mut pictures = Vec::new();
    let mut optional = 0;
    for gop in gops(aus) {
        let roles = decoder.plan_gop(gop);
        let mut keep = |p: Picture| pictures.push((p.pts, planes(&p)));
        for (au, role) in gop.iter().zip(roles) {
            match role {
                PacketRole::Disposable => {}
                PacketRole::Reference => decoder.decode(au, &mut keep).unwrap(),
                PacketRole::Optional => {
                    let want = decode_optional(optional);
                    optional += 1;
                    let mut shown = false;
                    let decoded = decoder
                        .decode_optional(au, &mut keep, &mut |latest| {
                            shown = latest.is_some_and(|l| l.pts > au.pts);
                            want
                        })
                        .unwrap();
                    assert_eq!(decoded, want);
                    assert!(shown, "the picture after the B-frames is shown");
                }
            }
        }
        decoder.end_gop(&mut keep);
    }
    // Nothing was taken for a loss: a skipped reference picture's
    // `frame_num` gap is expected, not concealed.
    let stats = decoder.stats();
    assert_eq!(
        (stats.concealed, stats.errors, stats.lost),
        (0, 0, 0),
        "{stats:?}"
    );
    (pictures, optional)
}

/// The packets and track parameters as MP4 stores them: length-prefixed
/// NAL units, the parameter sets in the `avcC` record, and in front of each
/// keyframe too when `in_band` (as cht's recorder keeps the sender's).
fn as_mp4(
    aus: Vec<VideoPacket>,
    params: VideoParams,
    in_band: bool,
) -> (Vec<VideoPacket>, VideoParams) {
    let samples = aus
        .into_iter()
        .map(|au| {
            let mut annexb = Vec::new();
            for nal in annexb_nals(&au.data) {
                if in_band || !matches!(nal_unit_type(nal), nal_type::SPS | nal_type::PPS) {
                    annexb.extend_from_slice(&[0, 0, 0, 1]);
                    annexb.extend_from_slice(nal);
                }
            }
            let mut sample = Vec::new();
            annexb_to_avcc(&annexb, &mut sample);
            VideoPacket {
                data: Bytes::from(sample),
                ..au
            }
        })
        .collect();
    let format = PacketFormat::LengthPrefixed { length_size: 4 };
    (samples, VideoParams { format, ..params })
}

/// Decodes `path` fully and planned; returns how many packets were
/// optional after checking that every planned picture is the full one, in
/// display order, with none lost.
fn check(path: &Path, decode_optional: impl Fn(usize) -> bool) -> usize {
    let aus = access_units_of(path);
    let params = params_of(&aus);
    check_packets(aus, params, decode_optional)
}

fn check_packets(
    aus: Vec<VideoPacket>,
    params: VideoParams,
    decode_optional: impl Fn(usize) -> bool,
) -> usize {
    let full = full_decode(&params, &aus);
    assert_eq!(full.len(), aus.len(), "the full decode has every picture");
    let (planned, optional) = planned_decode(&params, &aus, &decode_optional);
    let order: Vec<i64> = planned.iter().map(|(pts, _)| *pts).collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "display order: {order:?}"
    );
    for (pts, picture) in &planned {
        assert!(
            full[pts] == *picture,
            "picture at {pts} differs from the full decode's"
        );
    }
    let probe = H264Decoder::for_params(&params).unwrap();
    let non_disposable = aus.iter().filter(|au| !probe.is_disposable(au)).count();
    let skipped_optional = (0..optional).filter(|&i| !decode_optional(i)).count();
    assert_eq!(planned.len(), non_disposable - skipped_optional);
    optional
}

#[test]
fn veryfast_pyramid_b_references_are_optional_and_skipping_them_changes_no_other_picture() {
    let dir = tempfile::tempdir().unwrap();
    let path = encode(
        dir.path(),
        "veryfast.ts",
        "veryfast",
        "bframes=3:b-pyramid=normal",
    );
    let optional = check(&path, |_| false);
    // 120 frames in runs of up to 3 B-frames: a middle one in most runs.
    assert!(optional >= 15, "only {optional} optional pictures");
    // Any subset decoded gives the same pictures as well.
    assert_eq!(check(&path, |i| i % 3 == 1), optional);
    // Two B-frames (OBS's default): one of each pair is a reference.
    let obs = encode(
        dir.path(),
        "obs.ts",
        "veryfast",
        "bframes=2:b-pyramid=normal",
    );
    assert!(check(&obs, |_| false) >= 15);
    // The same as MP4 samples (a recorded session).
    for in_band in [false, true] {
        let aus = access_units_of(&path);
        let params = params_of(&aus);
        let (samples, params) = as_mp4(aus, params, in_band);
        assert_eq!(check_packets(samples, params, |i| i % 2 == 0), optional);
    }
}

#[test]
fn b_references_a_p_frame_may_refer_to_are_decoded() {
    // ref=3: a P-frame's list holds the B-frame before it: not optional.
    let dir = tempfile::tempdir().unwrap();
    let path = encode(
        dir.path(),
        "medium.ts",
        "medium",
        "bframes=3:b-pyramid=normal:ref=3",
    );
    check(&path, |_| false);
    let strict = encode(
        dir.path(),
        "strict.ts",
        "veryfast",
        "bframes=3:b-pyramid=strict:ref=2",
    );
    check(&strict, |_| false);
}

#[test]
fn streams_without_reference_b_frames_have_nothing_optional() {
    let dir = tempfile::tempdir().unwrap();
    let path = encode(
        dir.path(),
        "nopyramid.ts",
        "veryfast",
        "bframes=3:b-pyramid=none",
    );
    assert_eq!(check(&path, |_| false), 0);
}

#[test]
fn cavlc_and_multi_slice_streams_are_followed_too() {
    // CAVLC: openh264 applies list modifications its own way (not the
    // standard's procedure it uses for CABAC); 4 slices a picture: the
    // lists come from the first slice.
    let dir = tempfile::tempdir().unwrap();
    let cavlc = encode(
        dir.path(),
        "cavlc.ts",
        "veryfast",
        "bframes=3:b-pyramid=normal:cabac=0",
    );
    assert!(check(&cavlc, |_| false) >= 15);
    let sliced = encode(
        dir.path(),
        "sliced.ts",
        "veryfast",
        "bframes=3:b-pyramid=normal:slices=4",
    );
    assert!(check(&sliced, |i| i % 2 == 1) >= 15);
}
