//! Side-by-side speed measurements against ffmpeg, in one run on the same
//! machine (these machines are shared and noisy: only ratios mean much).

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// A 1080p, 60 s x264 High + AAC TS file, made once with ffmpeg.
pub fn clip_1080p_60s() -> anyhow::Result<PathBuf> {
    let dir = crate::root().join("target/bench-media");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("1080p_60s.ts");
    if path.is_file() {
        return Ok(path);
    }
    eprintln!("xtask: making {} with ffmpeg (once)", path.display());
    crate::run(
        Command::new("ffmpeg")
            .args([
                "-nostdin",
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=1920x1080:rate=30",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:sample_rate=48000",
                "-t",
                "60",
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-profile:v",
                "high",
                "-bf",
                "3",
                "-g",
                "60",
                "-b:v",
                "8M",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-b:a",
                "128k",
                "-f",
                "mpegts",
            ])
            .arg(&path),
    )?;
    Ok(path)
}

/// A 1080p, 60 s screen-share-like clip (the demo source's slides, pointer
/// and typing) re-encoded with x264 High + B-frames, made once.
pub fn screen_1080p_60s() -> anyhow::Result<PathBuf> {
    let dir = crate::root().join("target/bench-media");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("screen_1080p_60s.ts");
    if path.is_file() {
        return Ok(path);
    }
    let raw = dir.join("demo_1080p_60s.ts");
    eprintln!(
        "xtask: making {} from the demo source + x264 (once)",
        path.display()
    );
    crate::run(
        crate::cargo()
            .args([
                "run",
                "--release",
                "--quiet",
                "-p",
                "cht-demo",
                "--example",
                "write_ts",
                "--",
            ])
            .arg(&raw)
            .args(["60", "1920x1080"]),
    )?;
    crate::run(
        Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y", "-i"])
            .arg(&raw)
            .args([
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-profile:v",
                "high",
                "-bf",
                "3",
                "-g",
                "120",
                "-b:v",
                "3M",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "copy",
                "-f",
                "mpegts",
            ])
            .arg(&path),
    )?;
    Ok(path)
}

/// Wall time of one run of `cmd`, which must succeed.
fn time_once(cmd: &mut Command) -> anyhow::Result<f64> {
    let start = Instant::now();
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("{cmd:?}"))?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(secs)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs the two commands alternately `runs` times; returns their medians.
/// `outputs` are deleted (untimed) before every run, so neither tool pays
/// for freeing the other run's file: truncating a fresh 60 MB file costs
/// ext4 ~15 ms, a quarter of cht's whole remux.
pub fn side_by_side(
    runs: usize,
    outputs: &[&Path],
    a: &mut dyn FnMut() -> Command,
    b: &mut dyn FnMut() -> Command,
) -> anyhow::Result<(f64, f64)> {
    let p = paired(runs, outputs, a, b)?;
    Ok((p.a, p.b))
}

/// Two commands timed alternately: each one's median, and the ratio of
/// each pair of neighbouring runs (`b / a`: how many times faster `a` is).
pub struct Paired {
    pub a: f64,
    pub b: f64,
    pub ratios: Vec<f64>,
}

impl Paired {
    /// "median R x, from LO to HI x over N pairs": a pair's two runs share
    /// the machine's state, so the ratio of a pair is steadier than the
    /// ratio of the medians when the machine slows and speeds up.
    pub fn ratio_summary(&self) -> String {
        let mut r = self.ratios.clone();
        r.sort_by(f64::total_cmp);
        format!(
            "pairs: median {:.2}x, {:.2}-{:.2}x over {}",
            median(r.clone()),
            r.first().copied().unwrap_or(0.0),
            r.last().copied().unwrap_or(0.0),
            r.len()
        )
    }
}

/// `side_by_side`, keeping the ratio of each pair of runs.
pub fn paired(
    runs: usize,
    outputs: &[&Path],
    a: &mut dyn FnMut() -> Command,
    b: &mut dyn FnMut() -> Command,
) -> anyhow::Result<Paired> {
    let clean = || {
        for o in outputs {
            let _ = std::fs::remove_file(o);
        }
    };
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        clean();
        ta.push(time_once(&mut a())?);
        clean();
        tb.push(time_once(&mut b())?);
    }
    clean();
    let ratios = ta.iter().zip(&tb).map(|(a, b)| b / a).collect();
    Ok(Paired {
        a: median(ta),
        b: median(tb),
        ratios,
    })
}

/// `cargo xtask bench-remux`: `cht remux` vs ffmpeg's fragmented-MP4 remux.
pub fn bench_remux(args: &[String]) -> anyhow::Result<()> {
    let runs = args.first().map(|s| s.parse()).transpose()?.unwrap_or(5);
    crate::deps::ensure_test_tools()?;
    let cht = crate::build_cht()?;
    let input = clip_1080p_60s()?;
    let size_mb = std::fs::metadata(&input)?.len() as f64 / 1e6;
    let out = crate::root().join("target/bench-media");
    let (cht_out, ff_out) = (out.join("remux_cht.mp4"), out.join("remux_ffmpeg.mp4"));
    let _ = std::fs::read(&input)?; // warm the page cache for both
    let (t_cht, t_ff) = side_by_side(
        runs,
        &[&cht_out, &ff_out],
        &mut || {
            let mut c = Command::new(&cht);
            c.args(["-q", "remux"]).arg(&input).arg(&cht_out);
            c
        },
        &mut || ffmpeg_remux(&input, &ff_out),
    )?;
    println!(
        "input: {} ({size_mb:.1} MB), median of {runs} runs each",
        input.display()
    );
    println!("cht remux:    {t_cht:.3} s  ({:.0} MB/s)", size_mb / t_cht);
    println!("ffmpeg remux: {t_ff:.3} s  ({:.0} MB/s)", size_mb / t_ff);
    println!(
        "speed ratio (ffmpeg time / cht time, above 1: cht is faster): {:.2}",
        t_ff / t_cht
    );
    Ok(())
}

fn ffmpeg_remux(input: &Path, output: &Path) -> Command {
    let mut c = Command::new("ffmpeg");
    c.args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(input)
        .args([
            "-c",
            "copy",
            "-bsf:a",
            "aac_adtstoasc",
            "-f",
            "mp4",
            "-movflags",
            "frag_keyframe+empty_moov+default_base_moof",
        ])
        .arg(output);
    c
}

/// `cargo xtask bench-analyze`: `cht analyze` against ffmpeg's scene
/// select, and GOP-parallel against single-thread, on 1080p 60 s clips:
/// the demo source's screen share (a clock with hundredths and typing
/// change every frame: the worst case for a screen share) and busy
/// footage; then the 1080p real captures of the screen corpus, when
/// `cargo xtask screen-corpus` made them.
pub fn bench_analyze(args: &[String]) -> anyhow::Result<()> {
    let runs = args.first().map(|s| s.parse()).transpose()?.unwrap_or(3);
    crate::deps::ensure_test_tools()?;
    let cht = crate::build_cht()?;
    let corpus = crate::root().join("target/screen-corpus");
    let captures = ["browser-a/crf23.ts", "desktop-a/cbr3m.ts"]
        .map(|c| corpus.join(c))
        .into_iter()
        .filter(|c| c.is_file());
    for input in [screen_1080p_60s()?, clip_1080p_60s()?]
        .into_iter()
        .chain(captures)
    {
        analyze_side_by_side(&cht, &input, runs)?;
    }
    Ok(())
}

/// The number of video frames in `input`.
fn frame_count(input: &Path) -> anyhow::Result<f64> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_packets"])
        .args(["-show_entries", "stream=nb_read_packets", "-of", "csv=p=0"])
        .arg(input)
        .output()?;
    // (MPEG-TS inputs list the stream under their program too.)
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .parse()
        .with_context(|| format!("ffprobe frame count of {}: {text:?}", input.display()))
}

fn analyze_side_by_side(cht: &Path, input: &Path, runs: usize) -> anyhow::Result<()> {
    let (cht, input) = (cht.to_path_buf(), input.to_path_buf());
    let out = crate::root().join("target/bench-media/analysis");
    let frames = frame_count(&input)?;
    let analyze = |detector: &'static str, jobs: &'static str| {
        let (cht, input, out) = (cht.clone(), input.clone(), out.clone());
        move || {
            let _ = std::fs::remove_dir_all(&out);
            let mut c = Command::new(&cht);
            c.args(["-q", "analyze"])
                .arg(&input)
                .arg("--out")
                .arg(&out)
                .args(["--no-audio", "--detector", detector, "--jobs", jobs]);
            c
        }
    };
    let mut ffmpeg_select = || {
        let mut c = Command::new("ffmpeg");
        c.args(["-nostdin", "-v", "error", "-i"]).arg(&input).args([
            "-an",
            "-vf",
            "select='gt(scene,0.3)',showinfo",
            "-f",
            "null",
            "-",
        ]);
        c
    };
    let default = paired(runs, &[], &mut analyze("default", "0"), &mut ffmpeg_select)?;
    let ffmode = paired(runs, &[], &mut analyze("ffmpeg", "0"), &mut ffmpeg_select)?;
    let (t_default, t_ff1, t_ffmode, t_ff2) = (default.a, default.b, ffmode.a, ffmode.b);
    let decoded = pictures_decoded(&cht, &input)?;
    let (t_par, t_one) = side_by_side(
        runs,
        &[],
        &mut analyze("default", "0"),
        &mut analyze("default", "1"),
    )?;
    println!(
        "\ninput: {} ({frames} frames), median of {runs} runs each, all cores unless said",
        input.display()
    );
    println!(
        "cht analyze (default detector):   {t_default:.3} s  ({:.0} frames/s)  vs ffmpeg select {t_ff1:.3} s: {:.2}x ffmpeg's speed ({}); {decoded}",
        frames / t_default,
        t_ff1 / t_default,
        default.ratio_summary()
    );
    println!(
        "cht analyze --detector ffmpeg:    {t_ffmode:.3} s  ({:.0} frames/s)  vs ffmpeg select {t_ff2:.3} s: {:.2}x ffmpeg's speed ({}); every picture decoded",
        frames / t_ffmode,
        t_ff2 / t_ffmode,
        ffmode.ratio_summary()
    );
    println!(
        "ffmpeg -vf select='gt(scene,0.3)': {:.3} s  ({:.0} frames/s)",
        (t_ff1 + t_ff2) / 2.0,
        2.0 * frames / (t_ff1 + t_ff2)
    );
    println!("cht analyze --jobs 1:             {t_one:.3} s; all cores {t_par:.3} s: GOP-parallel speed-up {:.2}x", t_one / t_par);
    Ok(())
}

/// "N of M pictures decoded (P %)" for the default detector, from a run's
/// JSON summary.
fn pictures_decoded(cht: &Path, input: &Path) -> anyhow::Result<String> {
    let out = crate::root().join("target/bench-media/analysis");
    let _ = std::fs::remove_dir_all(&out);
    let run = Command::new(cht)
        .args(["-q", "analyze", "--json", "--no-audio"])
        .arg(input)
        .arg("--out")
        .arg(&out)
        .output()?;
    let summary = String::from_utf8_lossy(&run.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["event"] == "summary")
        .context("no summary from cht analyze --json")?;
    let s = &summary["summary"];
    let decoded = s["pictures"].as_u64().unwrap_or(0);
    let skipped = s["pictures_not_decoded"].as_u64().unwrap_or(0);
    let optional = s["optional_pictures_not_decoded"].as_u64().unwrap_or(0);
    let again = s["pictures_decoded_again"].as_u64().unwrap_or(0);
    let total = decoded + skipped;
    Ok(format!(
        "{decoded} of {total} pictures decoded ({:.0} %; left out: {} disposable, {optional} optional B-pyramid), {again} decoded again to be written",
        100.0 * decoded as f64 / total.max(1) as f64,
        skipped - optional
    ))
}

/// `cargo xtask bench-live [SECS]`: the CPU a live recording with analysis
/// costs, fed in real time with a 1080p30 x264 High + B-frames screen share
/// (`ffmpeg -re ... -c copy`), for each detector, against ffmpeg decoding
/// the same stream in real time in the same run (its H.264 decode alone).
pub fn bench_live(args: &[String]) -> anyhow::Result<()> {
    let secs: u32 = args.first().map(|s| s.parse()).transpose()?.unwrap_or(30);
    let cht = crate::build_cht()?;
    let clip = screen_1080p_60s()?;
    let baseline = ffmpeg_realtime_decode_cpu(&clip, secs)?;
    println!("live 1080p30 screen share, {secs} s of media sent in real time:");
    println!(
        "  ffmpeg -re decode only (baseline)   {:5.1} % of one core",
        baseline * 100.0
    );
    for detector in ["default", "ffmpeg"] {
        let share = recorder_cpu(&cht, &clip, secs, detector)?;
        println!(
            "  cht record --detector {detector:<8}     {:5.1} % of one core  ({:.2}x ffmpeg's decode)",
            share * 100.0,
            share / baseline.max(1e-9)
        );
    }
    Ok(())
}

/// CPU seconds (user + system) a running process has used, from /proc.
fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start after ')'.
    let rest = stat.rsplit_once(')').context("odd /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks =
        |i: usize| -> anyhow::Result<f64> { Ok(fields.get(i).context("short stat")?.parse()?) };
    // utime and stime are fields 14 and 15 of stat: 12 and 13 after ')'.
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}

fn ffmpeg_realtime_decode_cpu(clip: &Path, secs: u32) -> anyhow::Result<f64> {
    let start = Instant::now();
    let mut child = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-re", "-threads", "1", "-t"])
        .arg(secs.to_string())
        .arg("-i")
        .arg(clip)
        .args(["-an", "-f", "null", "-"])
        .spawn()?;
    // Sampled just before it ends: /proc is gone once it has been reaped.
    let mut cpu = 0.0;
    while child.try_wait()?.is_none() {
        if let Ok(c) = cpu_seconds(child.id()) {
            cpu = c;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Ok(cpu / start.elapsed().as_secs_f64())
}

fn recorder_cpu(cht: &Path, clip: &Path, secs: u32, detector: &str) -> anyhow::Result<f64> {
    let dir = crate::root().join("target/bench-live");
    let _ = std::fs::remove_dir_all(&dir);
    let listen = "127.0.0.1:45444";
    let mut rec = Command::new(cht)
        .args([
            "record",
            "--listen",
            listen,
            "--relay",
            "off",
            "--control",
            "off",
        ])
        .args(["--detector", detector, "--sessions-dir"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    std::thread::sleep(std::time::Duration::from_millis(500));
    let cpu_before = cpu_seconds(rec.id())?;
    let start = Instant::now();
    let sent = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-re", "-t"])
        .arg(secs.to_string())
        .arg("-i")
        .arg(clip)
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(format!("tcp://{listen}"))
        .status()?;
    // The analysis drains what it has queued.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let cpu = cpu_seconds(rec.id())? - cpu_before;
    let wall = start.elapsed().as_secs_f64();
    let _ = Command::new("kill")
        .args(["-TERM", &rec.id().to_string()])
        .status();
    rec.wait()?;
    if !sent.success() {
        bail!("the ffmpeg sender failed");
    }
    Ok(cpu / wall)
}
