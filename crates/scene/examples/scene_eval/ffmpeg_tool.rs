//! Running ffmpeg as a measurement tool: encode a clip, decode it to gray.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::corpus::{Clip, FONT, MONO_FONT};

pub type Error = Box<dyn std::error::Error>;

/// Fails early, with the fix, if ffmpeg or the fonts drawtext needs are missing.
pub fn check_tools() -> Result<(), Error> {
    let ok = Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success());
    if !matches!(ok, Ok(true)) {
        return Err("ffmpeg not found on PATH (apt-get install -y ffmpeg)".into());
    }
    for font in [FONT, MONO_FONT] {
        if !Path::new(font).exists() {
            return Err(format!("{font} missing: apt-get install -y fonts-dejavu-core").into());
        }
    }
    Ok(())
}

/// Encodes `clip` to H.264 (so the frames carry real codec noise), unless a
/// file with the same filter graph is already there.
pub fn encode(clip: &Clip, dir: &Path) -> Result<PathBuf, Error> {
    let video = dir.join(format!("{}.mp4", clip.name));
    let script = dir.join(format!("{}.graph", clip.name));
    let graph = clip.filter_graph();
    let unchanged = std::fs::read_to_string(&script)
        .map(|old| old == graph)
        .unwrap_or(false);
    if unchanged && video.exists() {
        return Ok(video);
    }
    std::fs::write(&script, &graph)?;
    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-filter_complex_script",
        ])
        .arg(&script)
        .args([
            "-map", "[out]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt",
            "yuv420p",
        ])
        .arg(&video)
        .output()?;
    if !out.status.success() {
        let _ = std::fs::remove_file(&script);
        return Err(format!(
            "ffmpeg failed on {}: {}",
            clip.name,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(video)
}

/// Streams the decoded luma of `video`, one packed `width * height` frame at
/// a time, into `each`.
pub fn decode_gray(
    video: &Path,
    width: usize,
    height: usize,
    mut each: impl FnMut(&[u8]),
) -> Result<usize, Error> {
    let mut child = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(video)
        .args(["-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdout = child.stdout.take().ok_or("no ffmpeg stdout")?;
    let mut frame = vec![0u8; width * height];
    let mut frames = 0;
    loop {
        match stdout.read_exact(&mut frame) {
            Ok(()) => {
                each(&frame);
                frames += 1;
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e.into()),
        }
    }
    if !child.wait()?.success() {
        return Err(format!("ffmpeg could not decode {}", video.display()).into());
    }
    Ok(frames)
}
