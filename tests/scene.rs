//! `cht-scene`'s ffmpeg mode against ffmpeg itself: the per-frame
//! `lavfi.scene_score` of `select` must match to 1e-4 on every frame.
//!
//! ffmpeg makes a tiny clip with cuts (160x120, 60 frames), writes its raw
//! frames, and scores them with `select='gte(scene,0)',metadata=print`; the
//! same bytes go through `SceneDetector` (with padded strides, as decoders
//! hand them out). ffmpeg is the independent oracle here; the product never
//! runs it.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

use cht_scene::{LumaPlane, SceneDetector};

const W: usize = 160;
const H: usize = 120;
const FRAMES: usize = 60;
const THRESHOLD: f64 = 0.3;

/// Three moving sources cut together, then a brightness step inside the
/// last one (a cut ffmpeg sees as a small score).
const CLIP: &str = "testsrc2=s=160x120:r=25,trim=end_frame=20,setpts=PTS-STARTPTS[a];\
    mandelbrot=s=160x120:r=25,trim=end_frame=20,setpts=PTS-STARTPTS[b];\
    life=s=160x120:r=25:mold=10:seed=7,trim=end_frame=20,setpts=PTS-STARTPTS,\
    eq=brightness='if(gte(n,12),0.1,0)':eval=frame[c];\
    [a][b][c]concat=n=3:v=1:a=0";

fn ffmpeg(args: &[&str]) -> std::process::Output {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg must be installed for this test (apt-get install -y ffmpeg)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Raw frames of the clip in `pix_fmt` (gray or yuv420p).
fn make_frames(dir: &Path, pix_fmt: &str) -> (std::path::PathBuf, Vec<u8>) {
    let raw = dir.join(format!("clip-{pix_fmt}.raw"));
    let graph = format!("{CLIP},format={pix_fmt}");
    ffmpeg(&[
        "-filter_complex",
        &graph,
        "-frames:v",
        &FRAMES.to_string(),
        "-f",
        "rawvideo",
        raw.to_str().unwrap(),
    ]);
    let bytes = std::fs::read(&raw).unwrap();
    (raw, bytes)
}

/// ffmpeg's `scene` score of every frame of a raw file.
fn ffmpeg_scores(dir: &Path, raw: &Path, pix_fmt: &str) -> Vec<f64> {
    let scores = dir.join(format!("scores-{pix_fmt}.txt"));
    let filter = format!(
        "select='gte(scene,0)',metadata=print:key=lavfi.scene_score:file={}",
        scores.display()
    );
    let size = format!("{W}x{H}");
    ffmpeg(
        &[
            "-f",
            "rawvideo",
            "-pix_fmt",
            pix_fmt,
            "-s",
            &size,
            "-r",
            "25",
            "-i",
            raw.to_str().unwrap(),
        ]
        .into_iter()
        .chain(["-vf", &filter, "-f", "null", "-"])
        .collect::<Vec<_>>(),
    );
    std::fs::read_to_string(&scores)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("lavfi.scene_score="))
        .map(|v| v.trim().parse().unwrap())
        .collect()
}

/// Copies a packed luma plane into a buffer with a padded stride (padding
/// filled with junk that must not be read).
fn padded(luma: &[u8], stride: usize) -> Vec<u8> {
    let mut out = vec![0xA5u8; stride * H];
    for (row, dst) in luma.chunks(W).zip(out.chunks_mut(stride)) {
        dst[..W].copy_from_slice(row);
    }
    out
}

/// Our ffmpeg-mode scores for the luma planes (`frame_len` bytes apart,
/// luma first), through both `push` and `push_after`.
fn our_scores(frames: &[u8], frame_len: usize) -> (Vec<f64>, Vec<bool>) {
    let stride = W + 24;
    let mut pushed = SceneDetector::new(THRESHOLD).unwrap();
    let mut paired = SceneDetector::new(THRESHOLD).unwrap();
    let planes: Vec<Vec<u8>> = frames
        .chunks(frame_len)
        .map(|f| padded(&f[..W * H], stride))
        .collect();
    let plane = |i: usize| LumaPlane::new(&planes[i], W, H, stride).unwrap();
    let mut scores = Vec::new();
    let mut cuts = Vec::new();
    for i in 0..planes.len() {
        let s = pushed.push(&plane(i)).unwrap();
        if i > 0 {
            let p = paired.push_after(&plane(i - 1), &plane(i)).unwrap();
            assert_eq!(
                (p.score, p.is_cut),
                (s.score, s.is_cut),
                "push_after differs at frame {i}"
            );
        }
        scores.push(s.score);
        cuts.push(s.is_cut);
    }
    (scores, cuts)
}

fn check_against_ffmpeg(pix_fmt: &str, frame_len: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (raw, bytes) = make_frames(dir.path(), pix_fmt);
    assert_eq!(
        bytes.len(),
        frame_len * FRAMES,
        "ffmpeg made {} bytes",
        bytes.len()
    );
    let expected = ffmpeg_scores(dir.path(), &raw, pix_fmt);
    let (ours, cuts) = our_scores(&bytes, frame_len);
    assert_eq!(expected.len(), FRAMES);
    assert_eq!(ours.len(), FRAMES);
    for (i, (e, o)) in expected.iter().zip(&ours).enumerate() {
        assert!(
            (e - o).abs() <= 1e-4,
            "{pix_fmt} frame {i}: ffmpeg {e}, ours {o}"
        );
        // Same decision as `gt(scene, 0.3)` wherever rounding cannot flip it.
        if (e - THRESHOLD).abs() > 1e-4 {
            assert_eq!(cuts[i], *e > THRESHOLD, "{pix_fmt} frame {i}: score {e}");
        }
    }
    // The clip must exercise the rule: first frame 0, second frame = mafd/100
    // (> 0 for moving content), and both hard cuts above the threshold.
    assert_eq!(expected[0], 0.0);
    assert!(expected[1] > 0.0);
    assert!(
        cuts[20] && cuts[40],
        "cuts at 20 and 40: {:?}",
        &expected[18..42]
    );
}

#[test]
fn ffmpeg_mode_matches_select_scene_on_gray() {
    check_against_ffmpeg("gray", W * H);
}

#[test]
fn ffmpeg_mode_matches_select_scene_on_yuv420p_luma() {
    // For planar YUV, select scores the luma plane only.
    check_against_ffmpeg("yuv420p", W * H * 3 / 2);
}
