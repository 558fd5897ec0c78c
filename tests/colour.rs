//! Colours of untagged streams, judged by ffmpeg: a stream without a colour
//! description is converted as libswscale made it (BT.601, limited range)
//! at every size, and a tagged one as its tags say.

// Tests may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use cht_core::{DemuxItem, MatrixCoefficients, Picture};
use cht_frames::{yuv420_to_rgb, YuvMatrix};
use cht_h264::H264Decoder;
use cht_suite::run;
use cht_ts::TsDemuxer;
use std::path::Path;
use std::process::Command;

/// One second of ffmpeg's `testsrc` at 1280x720, H.264 in MPEG-TS, with the
/// extra x264 options given (none: no colour description at all).
fn testsrc_720p(dir: &Path, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let out = dir.join(name);
    let (ok, _, err) = run(Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-f", "lavfi", "-i"])
        .arg("testsrc=size=1280x720:rate=10:duration=1")
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-crf", "12"])
        .args(["-pix_fmt", "yuv420p"])
        .args(extra)
        .args(["-f", "mpegts"])
        .arg(&out));
    assert!(ok, "{err}");
    out
}

/// ffmpeg's own RGB of the first picture (nearest chroma, as cht does).
fn ffmpeg_rgb(input: &Path) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(input)
        .args(["-frames:v", "1", "-sws_flags"])
        .arg("accurate_rnd+full_chroma_int+neighbor")
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The first picture as cht decodes it (demuxer + openh264).
fn cht_first_picture(input: &Path) -> Picture {
    let mut items: Vec<DemuxItem> = Vec::new();
    let mut demuxer = TsDemuxer::new();
    demuxer.push(&std::fs::read(input).unwrap(), &mut items);
    demuxer.finish(&mut items);
    let mut decoder = H264Decoder::new().unwrap();
    let mut pictures = Vec::new();
    for item in &items {
        if let DemuxItem::Video(au) = item {
            decoder.decode(au, &mut |p| pictures.push(p)).unwrap();
        }
    }
    decoder.flush(&mut |p| pictures.push(p));
    pictures.into_iter().min_by_key(|p| p.pts).unwrap()
}

/// The largest per-channel difference between cht's and ffmpeg's RGB.
fn worst_difference(input: &Path) -> (i32, Picture, Vec<u8>) {
    let picture = cht_first_picture(input);
    let mut rgb = Vec::new();
    yuv420_to_rgb(&picture, &YuvMatrix::for_picture(&picture), &mut rgb).unwrap();
    let theirs = ffmpeg_rgb(input);
    assert_eq!(rgb.len(), theirs.len());
    let worst = rgb
        .iter()
        .zip(&theirs)
        .map(|(&a, &b)| (i32::from(a) - i32::from(b)).abs())
        .max()
        .unwrap();
    (worst, picture, rgb)
}

#[test]
fn an_untagged_hd_frame_has_ffmpegs_colours() {
    let tmp = tempfile::tempdir().unwrap();
    let input = testsrc_720p(tmp.path(), "untagged.ts", &[]);
    let (worst, picture, rgb) = worst_difference(&input);
    assert_eq!(picture.colour.matrix, MatrixCoefficients::Unspecified);
    eprintln!("untagged 720p testsrc: worst difference from ffmpeg {worst} levels");
    assert!(worst <= 2, "worst difference from ffmpeg: {worst} levels");
    // testsrc has a pure green (0,255,0) bar: it must come back green,
    // not as (1,216,0) (BT.709 read of BT.601 samples).
    let row = &rgb[60 * 1280 * 3..61 * 1280 * 3];
    let green = row
        .chunks(3)
        .filter(|px| px[0] < 8 && px[1] > 245 && px[2] < 8)
        .count();
    assert!(green > 100, "{green} pure green pixels on the bars' row");
}

#[test]
fn a_bt709_tagged_hd_frame_has_ffmpegs_colours() {
    let tmp = tempfile::tempdir().unwrap();
    let tags = [
        "-vf",
        "scale=out_color_matrix=bt709",
        "-colorspace",
        "bt709",
        "-color_primaries",
        "bt709",
        "-color_trc",
        "bt709",
    ];
    let input = testsrc_720p(tmp.path(), "bt709.ts", &tags);
    let (worst, picture, _) = worst_difference(&input);
    assert_eq!(picture.colour.matrix, MatrixCoefficients::Bt709);
    eprintln!("BT.709-tagged 720p testsrc: worst difference from ffmpeg {worst} levels");
    assert!(worst <= 2, "worst difference from ffmpeg: {worst} levels");
}
