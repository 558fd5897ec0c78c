//! Damaged input decodes like ffmpeg's: MPEG-TS files with 0.1 % of their
//! bits flipped (a deterministic flipper on the committed fixture) are
//! analysed, and ffmpeg, as the judge, counts the pictures it decodes from
//! the same files.

// Tests may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use cht_suite::{cht_bin, fixture, run};
use std::path::Path;
use std::process::Command;

/// Flips each bit of `data` with probability `rate`, reproducibly
/// (xorshift64 seeded by `seed`).
fn flip_bits(data: &mut [u8], rate: f64, seed: u64) {
    let mut x = seed.max(1);
    let flips = (data.len() as f64 * 8.0 * rate) as usize;
    let bits = data.len() as u64 * 8;
    for _ in 0..flips {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let bit = x % bits;
        data[(bit / 8) as usize] ^= 1 << (bit % 8);
    }
}

/// Pictures ffmpeg decodes from `input` (every one it outputs).
fn ffmpeg_pictures(input: &Path) -> u64 {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "quiet", "-i"])
        .arg(input)
        .args([
            "-map",
            "0:v:0",
            "-fps_mode",
            "passthrough",
            "-f",
            "framecrc",
            "-",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("0,"))
        .count() as u64
}

/// Pictures `cht analyze` decodes from `input`, and its decoder counters.
fn cht_pictures(input: &Path, out: &Path) -> (u64, serde_json::Value) {
    let (ok, stdout, err) = run(Command::new(cht_bin())
        // Every picture decoded (by default pictures no other refers to
        // are not), as ffmpeg does.
        .args(["analyze", "--json", "-q", "--every-picture", "--out"])
        .arg(out)
        .arg(input));
    assert!(ok, "{err}");
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let summary = &summary["summary"];
    // A picture repeated in place of one openh264 could not produce at all
    // is not counted as decoded.
    let decode = summary["decode"].clone();
    let repeated = decode["repeated"].as_u64().unwrap();
    (summary["pictures"].as_u64().unwrap() - repeated, decode)
}

#[test]
fn bit_errors_cost_macroblocks_not_gops() {
    let tmp = tempfile::tempdir().unwrap();
    let clean = std::fs::read(fixture("av_high.ts")).unwrap();
    let (mut theirs, mut ours) = (0, 0);
    for seed in [11, 12, 13] {
        let mut data = clean.clone();
        flip_bits(&mut data, 0.001, seed);
        let input = tmp.path().join(format!("flipped_{seed}.ts"));
        std::fs::write(&input, &data).unwrap();
        let ffmpeg = ffmpeg_pictures(&input);
        let (cht, decode) = cht_pictures(&input, &tmp.path().join(format!("out_{seed}")));
        eprintln!("seed {seed}: ffmpeg decodes {ffmpeg} pictures, cht {cht}; {decode}");
        assert!(ffmpeg > 100, "the damage leaves ffmpeg something to decode");
        assert!(decode["concealed"].as_u64().unwrap() > 0, "{decode}");
        theirs += ffmpeg;
        ours += cht;
    }
    // Before concealment cht decoded none of these pictures (a damaged
    // slice cost the rest of its GOP); before the demuxer kept the packets
    // that came ahead of a damaged PAT/PMT and refused implausible SPSs,
    // 77 %. The issue asks for 90 %.
    let share = ours as f64 / theirs as f64;
    eprintln!(
        "cht decodes {:.0} % of the pictures ffmpeg decodes",
        share * 100.0
    );
    assert!(share >= 0.9, "cht decodes {ours} pictures, ffmpeg {theirs}");
}
