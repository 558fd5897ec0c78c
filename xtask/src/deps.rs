//! Debian packages the build and the tests use, installed when missing.

use anyhow::bail;
use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs the Debian packages for the given missing tools (tool, package).
fn ensure(tools: &[(&str, &str)]) -> anyhow::Result<()> {
    let missing: Vec<&str> = tools
        .iter()
        .filter(|(t, _)| !have(t))
        .map(|(_, p)| *p)
        .collect();
    install(missing)
}

fn has_gst_element(element: &str) -> bool {
    Command::new("gst-inspect-1.0")
        .args(["--exists", element])
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs the Debian packages of the given missing GStreamer elements
/// (element, package).
fn ensure_gst_elements(elements: &[(&str, &str)]) -> anyhow::Result<()> {
    let mut missing: Vec<&str> = elements
        .iter()
        .filter(|(e, _)| !has_gst_element(e))
        .map(|(_, p)| *p)
        .collect();
    missing.dedup();
    install(missing)
}

fn install(mut missing: Vec<&str>) -> anyhow::Result<()> {
    missing.sort_unstable();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!(
        "xtask: installing missing Debian packages: {} (apt-get)",
        missing.join(" ")
    );
    let sudo = if is_root() { "" } else { "sudo " };
    if !have("apt-get") {
        bail!(
            "please install {} (no apt-get on this machine)",
            missing.join(" ")
        );
    }
    let script = format!(
        "{sudo}apt-get update -qq && DEBIAN_FRONTEND=noninteractive {sudo}apt-get install -y -qq {} >/dev/null",
        missing.join(" ")
    );
    crate::run(Command::new("sh").args(["-c", &script]))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
}

/// nasm: openh264 builds without it, silently ~1.5x slower.
pub fn ensure_build_tools() -> anyhow::Result<()> {
    ensure(&[("nasm", "nasm")])
}

/// ffmpeg/ffprobe are the independent oracles of the interop tests;
/// GStreamer is their second sender (tests/codecs_interop.rs); prlimit runs
/// the security tests' file-descriptor attacks; chromium (headless) is the
/// browser of the browser view's tests.
pub fn ensure_test_tools() -> anyhow::Result<()> {
    ensure(&[
        ("nasm", "nasm"),
        ("ffmpeg", "ffmpeg"),
        ("ffprobe", "ffmpeg"),
        ("prlimit", "util-linux"),
        ("chromium", "chromium"),
        ("gst-launch-1.0", "gstreamer1.0-tools"),
    ])?;
    ensure_gst_elements(&[
        ("videotestsrc", "gstreamer1.0-plugins-base"),
        ("audiotestsrc", "gstreamer1.0-plugins-base"),
        ("audioconvert", "gstreamer1.0-plugins-base"),
        ("tcpclientsink", "gstreamer1.0-plugins-base"),
        ("lamemp3enc", "gstreamer1.0-plugins-good"),
        ("mpegaudioparse", "gstreamer1.0-plugins-good"),
        ("aacparse", "gstreamer1.0-plugins-good"),
        ("x264enc", "gstreamer1.0-plugins-ugly"),
        ("openh264enc", "gstreamer1.0-plugins-bad"),
        ("x265enc", "gstreamer1.0-plugins-bad"),
        ("voaacenc", "gstreamer1.0-plugins-bad"),
        ("h264parse", "gstreamer1.0-plugins-bad"),
        ("h265parse", "gstreamer1.0-plugins-bad"),
        ("mpegtsmux", "gstreamer1.0-plugins-bad"),
    ])
}
