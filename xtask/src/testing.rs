//! `cargo xtask test` and `cargo xtask fuzz`.

use crate::{cargo, deps, root, run};
use anyhow::Context;
use std::process::Command;

const FUZZ_TARGETS: [&str; 4] = ["ts_demux", "mp4_reader", "adts_decode", "h264_gop_plan"];

pub fn test(args: &[String]) -> anyhow::Result<()> {
    deps::ensure_test_tools()?;
    lint()?;
    if !args.iter().any(|a| a == "--no-fuzz") {
        fuzz(15)?;
    }
    let extra: Vec<&String> = args.iter().filter(|a| *a != "--no-fuzz").collect();
    run(cargo().args(["test", "--workspace"]).args(extra))
}

/// The contracts of `[workspace.lints]` (documented public items, no
/// unsafe code outside the SIMD crates, no `unwrap` outside tests) and
/// intra-doc links: clippy and rustdoc with warnings as errors.
pub fn lint() -> anyhow::Result<()> {
    let have_clippy = cargo()
        .args(["clippy", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_clippy {
        eprintln!("xtask: installing clippy (rustup component add clippy)");
        run(Command::new("rustup").args(["component", "add", "clippy"]))?;
    }
    eprintln!("xtask: clippy and rustdoc with warnings as errors");
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(cargo().env("RUSTDOCFLAGS", "-D warnings").args([
        "doc",
        "--workspace",
        "--no-deps",
        "--quiet",
    ]))
}

/// Short libFuzzer runs. cargo-fuzz needs nightly-only flags; the stable
/// toolchain accepts them with RUSTC_BOOTSTRAP=1.
pub fn fuzz(secs: u32) -> anyhow::Result<()> {
    ensure_cargo_fuzz()?;
    let corpus_root = root().join("target/fuzz-corpus");
    for target in FUZZ_TARGETS {
        let corpus = corpus_root.join(target);
        seed_corpus(target, &corpus)?;
        eprintln!("xtask: fuzzing {target} for {secs} s");
        run(cargo()
            .current_dir(root().join("fuzz"))
            .env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", "--sanitizer", "none", target])
            .arg(&corpus)
            .args([
                "--",
                &format!("-max_total_time={secs}"),
                "-max_len=65536",
                "-print_final_stats=1",
            ]))?;
    }
    Ok(())
}

fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    let have = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        eprintln!("xtask: installing cargo-fuzz (cargo install cargo-fuzz)");
        run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked", "--quiet"]))?;
    }
    Ok(())
}

/// Starts each target from real inputs cut to the fuzzer's size limit.
fn seed_corpus(target: &str, dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let fixtures = root().join("tests/fixtures");
    if target == "h264_gop_plan" {
        return seed_h264(&fixtures.join("screen/slide_build.ts"), dir);
    }
    let seeds: &[&str] = match target {
        "ts_demux" => &["av_high.ts"],
        "mp4_reader" => &["short_frag.mp4"],
        _ => &["speech.aac"],
    };
    for name in seeds {
        if let Ok(bytes) = std::fs::read(fixtures.join(name)) {
            let cut = &bytes[..bytes.len().min(65536)];
            std::fs::write(dir.join(format!("seed-{name}")), cut)?;
        }
    }
    Ok(())
}

/// The start of a committed x264 veryfast clip's video as Annex-B (ffmpeg
/// extracts it): parameter sets, an IDR and B-pyramid GOP structure.
fn seed_h264(clip: &std::path::Path, dir: &std::path::Path) -> anyhow::Result<()> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(clip)
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
        ])
        .output()
        .context("ffmpeg (for the fuzz seed)")?;
    if !out.status.success() {
        anyhow::bail!(
            "ffmpeg could not extract the fuzz seed from {}: {}",
            clip.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let cut = &out.stdout[..out.stdout.len().min(65536)];
    std::fs::write(dir.join("seed-slide_build.h264"), cut)?;
    Ok(())
}
