//! Our YUV -> RGB against ffmpeg's swscale on a real decoded frame.

use std::path::Path;
use std::process::Command;

use cht_core::{ColourInfo, Picture};
use cht_frames::{yuv420_to_rgb, YuvMatrix};

fn ffmpeg_first_frame(pix_fmt: &str) -> Vec<u8> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/av_high.ts");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(fixture)
        .args([
            "-map",
            "0:v",
            "-frames:v",
            "1",
            "-sws_flags",
            "accurate_rnd+full_chroma_int+neighbor",
        ])
        .args(["-f", "rawvideo", "-pix_fmt", pix_fmt, "-"])
        .output()
        .expect("ffmpeg installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn matches_swscale_bt601_limited_range_conversion() {
    let (w, h) = (640, 360);
    let yuv = ffmpeg_first_frame("yuv420p");
    let expected = ffmpeg_first_frame("rgb24");
    assert_eq!((yuv.len(), expected.len()), (w * h * 3 / 2, w * h * 3));
    let picture = Picture {
        pts: 0,
        width: w,
        height: h,
        y: yuv[..w * h].to_vec(),
        u: yuv[w * h..w * h * 5 / 4].to_vec(),
        v: yuv[w * h * 5 / 4..].to_vec(),
        y_stride: w,
        uv_stride: w / 2,
        colour: ColourInfo::default(),
    };
    let mut rgb = Vec::new();
    yuv420_to_rgb(&picture, &YuvMatrix::for_picture(&picture), &mut rgb).unwrap();
    let diffs: Vec<i32> = rgb
        .iter()
        .zip(&expected)
        .map(|(&a, &b)| a as i32 - b as i32)
        .collect();
    let mean_abs = diffs.iter().map(|d| d.abs() as f64).sum::<f64>() / diffs.len() as f64;
    let mean = diffs.iter().map(|&d| d as f64).sum::<f64>() / diffs.len() as f64;
    let worst = diffs.iter().map(|d| d.abs()).max().unwrap();
    // Same nearest-neighbour chroma; only fixed-point rounding may differ.
    assert!(worst <= 1, "worst difference {worst}");
    assert!(mean.abs() < 0.01, "systematic offset {mean}");
    assert!(mean_abs < 0.01, "mean abs difference {mean_abs}");
}
