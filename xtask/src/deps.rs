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
/// prlimit runs the security tests' file-descriptor attacks; chromium
/// (headless) is the browser of the browser view's tests.
pub fn ensure_test_tools() -> anyhow::Result<()> {
    ensure(&[
        ("nasm", "nasm"),
        ("ffmpeg", "ffmpeg"),
        ("ffprobe", "ffmpeg"),
        ("prlimit", "util-linux"),
        ("chromium", "chromium"),
    ])
}
