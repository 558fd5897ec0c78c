//! `cargo xtask memory`: the recorder's memory over hours of media sent at
//! full speed, with the analysis on (the 2-hour test; too slow for
//! CI, whose `tests/record_memory.rs` sends shorter runs of the same kind).

use anyhow::{bail, Context};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Resident set now (`VmRSS`) and its peak (`VmHWM`) of a live process, kB.
fn rss_kb(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn ffmpeg(args: &[&str], out: &Path) -> anyhow::Result<()> {
    crate::run(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y"])
            .args(args)
            .arg(out),
    )
}

/// `cargo xtask memory [MINUTES] [--debug]`.
pub fn memory(args: &[String]) -> anyhow::Result<()> {
    let minutes: u32 = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(|s| s.parse())
        .transpose()
        .context("MINUTES must be a whole number")?
        .unwrap_or(120);
    if minutes == 0 {
        bail!("MINUTES must be at least 1");
    }
    let cht = if args.iter().any(|a| a == "--debug") {
        crate::run(crate::cargo().args(["build", "--quiet", "-p", "cht"]))?;
        crate::root().join("target/debug/cht")
    } else {
        crate::build_cht()?
    };
    let dir = crate::root().join("target/xtask-memory");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    // One minute of a small picture with sound, looped with continuous
    // timestamps into the whole run.
    let minute = dir.join("minute.ts");
    ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=30:duration=60",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=60",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "32",
            "-g",
            "60",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "-f",
            "mpegts",
        ],
        &minute,
    )?;
    let long = dir.join("long.ts");
    let loops = (minutes - 1).to_string();
    let minute_arg = minute.display().to_string();
    ffmpeg(
        &[
            "-stream_loop",
            &loops,
            "-i",
            &minute_arg,
            "-c",
            "copy",
            "-f",
            "mpegts",
        ],
        &long,
    )?;

    let listen = "127.0.0.1:45446";
    let mut rec = Command::new(&cht)
        .args([
            "record",
            "--listen",
            listen,
            "--relay",
            "off",
            "--control",
            "off",
        ])
        .args(["--once", "--sessions-dir"])
        .arg(dir.join("sessions"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    std::thread::sleep(Duration::from_millis(500));
    let idle = rss_kb(rec.id()).map_or(0, |(rss, _)| rss);
    let start = Instant::now();
    let mut sender = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&long)
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(format!("tcp://{listen}"))
        .spawn()?;
    // Sampled every 100 ms until the recorder has written everything and
    // exits (--once): the media arrives in seconds, the analysis then
    // works through what it queued.
    let mut samples = Vec::new();
    let mut peak = 0;
    let mut sent_after = None;
    while rec.try_wait()?.is_none() {
        if let Some((rss, hwm)) = rss_kb(rec.id()) {
            samples.push(rss);
            peak = peak.max(hwm);
        }
        if sent_after.is_none() && sender.try_wait()?.is_some() {
            sent_after = Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if !sender.wait()?.success() {
        bail!("the ffmpeg sender failed");
    }
    let total = start.elapsed();
    if samples.len() < 8 {
        bail!("too few samples of the recorder's memory");
    }
    let quarter = samples.len() / 4;
    let mean = |s: &[u64]| s.iter().sum::<u64>() as f64 / s.len() as f64 / 1024.0;
    let second = mean(&samples[quarter..2 * quarter]);
    let last = mean(&samples[3 * quarter..]);
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!(
        "cht record ({}) with analysis, {minutes} min of 320x180 video + AAC sent at full speed:",
        cht.display()
    );
    println!(
        "  sent in {:.1} s, recorder done after {:.1} s",
        sent_after.unwrap_or(total).as_secs_f64(),
        total.as_secs_f64()
    );
    println!("  resident set idle        {:6.1} MB", mb(idle));
    println!(
        "  peak (VmHWM)             {:6.1} MB   (limit 64 MB)",
        mb(peak)
    );
    println!("  mean, 2nd quarter        {second:6.1} MB");
    println!("  mean, last quarter       {last:6.1} MB");
    println!(
        "  drift                    {:+6.1} MB   (limit ±5 MB)",
        last - second
    );
    let ok = peak < 64 * 1024 && (last - second).abs() <= 5.0;
    if !ok {
        bail!("memory over its bounds");
    }
    Ok(())
}
