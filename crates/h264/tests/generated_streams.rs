//! Streams made by ffmpeg/libx264 on the fly, for properties the committed
//! fixture cannot show.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use cht_core::{ColourInfo, MatrixCoefficients, Picture, VideoDecoder};
use cht_h264::H264Decoder;
use support::{access_units_of, ffmpeg_luma, x264_testsrc};

fn encode(dir: &Path, name: &str, x264_params: &str, extra: &[&str]) -> std::path::PathBuf {
    let args: Vec<&str> = ["-x264-params", x264_params]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    x264_testsrc(dir, name, 45, &args)
}

fn decode_file(path: &Path) -> Vec<Picture> {
    let mut decoder = H264Decoder::new().unwrap();
    let mut pictures = Vec::new();
    for au in access_units_of(path) {
        decoder.decode(&au, &mut |p| pictures.push(p)).unwrap();
    }
    decoder.flush(&mut |p| pictures.push(p));
    pictures
}

#[test]
fn high_profile_without_b_frames_is_bit_exact_with_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let path = encode(dir.path(), "p.ts", "keyint=15:bframes=0", &[]);
    let pictures = decode_file(&path);
    let luma = ffmpeg_luma(&path);
    assert_eq!(pictures.len(), 45);
    for (i, p) in pictures.iter().enumerate() {
        assert_eq!((p.width, p.height), (320, 180));
        assert!(
            p.y == luma[i * 320 * 180..(i + 1) * 320 * 180],
            "picture {i} differs"
        );
        assert_eq!(p.colour, ColourInfo::default());
    }
}

#[test]
fn full_range_bt709_signalling_reaches_the_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let path = encode(
        dir.path(),
        "c.ts",
        "keyint=15",
        &[
            "-color_range",
            "pc",
            "-colorspace",
            "bt709",
            "-color_primaries",
            "bt709",
            "-color_trc",
            "bt709",
        ],
    );
    let pictures = decode_file(&path);
    assert_eq!(pictures.len(), 45);
    let expected = ColourInfo {
        full_range: true,
        matrix: MatrixCoefficients::Bt709,
    };
    assert!(
        pictures.iter().all(|p| p.colour == expected),
        "{:?}",
        pictures[0].colour
    );
}

/// libx264 fed an RGB screen grab encodes 4:4:4 unless told otherwise, and
/// openh264 cannot decode it: the decoder must say so (once, with the fix)
/// instead of counting endless errors, and pick up again when the sender
/// reconnects with 4:2:0.
#[test]
fn a_444_stream_is_refused_with_a_reason_and_420_after_it_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let s444 = encode(
        dir.path(),
        "444.ts",
        "keyint=15",
        &["-profile:v", "high444", "-pix_fmt", "yuv444p"],
    );
    let s420 = encode(dir.path(), "420.ts", "keyint=15", &[]);
    let mut decoder = H264Decoder::new().unwrap();
    let mut pictures = Vec::new();
    let aus444 = access_units_of(&s444);
    for au in &aus444 {
        decoder.decode(au, &mut |p| pictures.push(p)).unwrap();
    }
    let reason = *decoder.unsupported().expect("a 4:4:4 stream is reported");
    assert_eq!(
        decoder.unsupported_format(),
        Some(reason.to_string().as_str())
    );
    let message = reason.to_string();
    assert!(
        message.contains("High 4:4:4 Predictive") && message.contains("4:4:4 8-bit"),
        "{message}"
    );
    assert!(message.contains("-pix_fmt yuv420p"), "{message}");
    assert_eq!(reason.sps().chroma_format_idc, 3);
    let stats = decoder.stats();
    assert_eq!(
        (pictures.len(), stats.unsupported),
        (0, aus444.len() as u64)
    );
    assert_eq!((stats.errors, stats.lost), (0, 0), "{stats:?}");

    for au in access_units_of(&s420) {
        decoder.decode(&au, &mut |p| pictures.push(p)).unwrap();
    }
    decoder.flush(&mut |p| pictures.push(p));
    assert_eq!(decoder.unsupported_format(), None);
    assert_eq!(pictures.len(), 45);
    assert_eq!(decoder.stats().unsupported, aus444.len() as u64);
}
