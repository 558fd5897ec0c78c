//! Test inputs made by ffmpeg/ffprobe, the independent oracle: access units
//! split from an Annex-B dump, their PTS, and ffmpeg's own decode.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use bytes::Bytes;
use cht_core::h264::{is_idr_access_unit, nal_type};
use cht_core::VideoPacket;

pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/av_high.ts")
}

pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .expect("ffmpeg/ffprobe must be installed");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `frames` frames of testsrc2 at 320x180, 30 fps (motion everywhere),
/// encoded by libx264 (High, 4:2:0, then `args`) to MPEG-TS `dir/name`.
pub fn x264_testsrc(dir: &Path, name: &str, frames: u32, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    run(Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=30",
        ])
        .args(["-frames:v", &frames.to_string(), "-c:v", "libx264"])
        .args(["-profile:v", "high", "-pix_fmt", "yuv420p"])
        .args(args)
        .args(["-f", "mpegts"])
        .arg(&out));
    out
}

/// The video of `input` as Annex-B, as ffmpeg writes it (with AUDs).
pub fn annexb_of(input: &Path) -> Vec<u8> {
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(input)
        .args([
            "-map",
            "0:v",
            "-c:v",
            "copy",
            "-bsf:v",
            "h264_mp4toannexb",
            "-f",
            "h264",
            "-",
        ]))
}

/// PTS of each video packet, in decode order.
pub fn packet_pts(input: &Path) -> Vec<i64> {
    let csv = run(Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0"])
        .args(["-show_entries", "packet=pts", "-of", "csv=p=0"])
        .arg(input));
    String::from_utf8(csv)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().trim_end_matches(',').parse().expect("numeric pts"))
        .collect()
}

/// Splits an Annex-B stream into access units at its AUD NAL units.
pub fn split_at_auds(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 < stream.len() {
        if stream[i..i + 3] == [0, 0, 1] && stream[i + 3] & 0x1f == nal_type::AUD {
            // include the leading zero of a 4-byte start code
            starts.push(if i > 0 && stream[i - 1] == 0 {
                i - 1
            } else {
                i
            });
            i += 4;
        } else {
            i += 1;
        }
    }
    starts.push(stream.len());
    starts
        .windows(2)
        .map(|w| stream[w[0]..w[1]].to_vec())
        .collect()
}

/// Access units of `input` with ffprobe's PTS (decode order).
pub fn access_units_of(input: &Path) -> Vec<VideoPacket> {
    let aus = split_at_auds(&annexb_of(input));
    let pts = packet_pts(input);
    assert_eq!(aus.len(), pts.len(), "one AUD per packet");
    aus.into_iter()
        .zip(pts)
        .map(|(data, pts)| VideoPacket {
            pts,
            dts: pts,
            keyframe: is_idr_access_unit(&data),
            damaged: false,
            data: Bytes::from(data),
        })
        .collect()
}

/// ffmpeg's decode of `input`: luma planes in display order, tightly packed.
/// (`-pix_fmt gray` alone would range-convert; `extractplanes` copies Y.)
pub fn ffmpeg_luma(input: &Path) -> Vec<u8> {
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(input)
        .args([
            "-map",
            "0:v",
            "-fps_mode",
            "passthrough",
            "-vf",
            "extractplanes=y",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ]))
}

pub struct Fixture {
    pub aus: Vec<VideoPacket>,
    pub luma: Vec<u8>,
    pub width: usize,
    pub height: usize,
}

impl Fixture {
    /// ffmpeg's luma plane for the picture shown at `pts`.
    pub fn reference_luma(&self, pts: i64) -> &[u8] {
        let mut sorted: Vec<i64> = self.aus.iter().map(|a| a.pts).collect();
        sorted.sort_unstable();
        let idx = sorted.binary_search(&pts).expect("pts of a source picture");
        let size = self.width * self.height;
        &self.luma[idx * size..(idx + 1) * size]
    }
}

/// The committed fixture, read once per test binary.
pub fn av_high() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let path = fixture();
        Fixture {
            aus: access_units_of(&path),
            luma: ffmpeg_luma(&path),
            width: 640,
            height: 360,
        }
    })
}

/// Peak signal-to-noise ratio of two 8-bit planes, infinite when equal.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    if a == b {
        return f64::INFINITY; // memcmp: debug-build arithmetic is slow
    }
    let se: u64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (x as i64 - y as i64).pow(2) as u64)
        .sum();
    let mse = se as f64 / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}
