//! Encodings as real senders make them: libx264 veryfast to MPEG-TS, 4:2:0,
//! with and without `-tune zerolatency`, CRF and CBR.

use std::path::Path;
use std::process::Command;

/// (name, ffmpeg video options).
pub const ENCODINGS: &[(&str, &[&str])] = &[
    (
        "crf23",
        &["-c:v", "libx264", "-preset", "veryfast", "-crf", "23"],
    ),
    (
        "zl-crf23",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "zerolatency",
            "-crf",
            "23",
        ],
    ),
    (
        "cbr3m",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-b:v",
            "3M",
            "-maxrate",
            "3M",
            "-bufsize",
            "3M",
            "-x264-params",
            "nal-hrd=cbr",
        ],
    ),
    (
        "zl-cbr2m",
        &[
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "zerolatency",
            "-b:v",
            "2M",
            "-maxrate",
            "2M",
            "-bufsize",
            "2M",
            "-x264-params",
            "nal-hrd=cbr",
        ],
    ),
];

pub fn options(name: &str) -> anyhow::Result<&'static [&'static str]> {
    ENCODINGS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, o)| *o)
        .ok_or_else(|| anyhow::anyhow!("unknown encoding {name:?}"))
}

/// Encodes the lossless capture to `out` (MPEG-TS, yuv420p; every frame
/// kept with its time: frame i of the TS is frame i of the capture).
pub fn encode(capture: &Path, name: &str, out: &Path) -> anyhow::Result<()> {
    let tmp = out.with_extension("ts.part");
    crate::run(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y", "-i"])
            .arg(capture)
            .args(options(name)?)
            .args([
                "-pix_fmt",
                "yuv420p",
                "-fps_mode",
                "passthrough",
                "-an",
                "-f",
                "mpegts",
            ])
            .arg(&tmp),
    )?;
    std::fs::rename(&tmp, out)?;
    Ok(())
}
