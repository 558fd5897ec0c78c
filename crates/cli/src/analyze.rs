//! `cht analyze` and `cht scores`: offline analysis of a file or session.

use crate::cli::{AnalysisArgs, AnalyzeArgs, AudioFormatArg, DetectorArg, ScoresArgs};
use anyhow::Context;
use cht_analyze::{AnalyzeInput, OfflineOptions};
use cht_audio::{AudioFormat, AudioOptions};
use cht_events::EventBus;
use cht_scene::Detector;
use cht_session::{Layout, SessionsDir};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

pub fn detector(d: DetectorArg) -> Detector {
    match d {
        DetectorArg::Default => Detector::Default,
        DetectorArg::Ffmpeg => Detector::Ffmpeg,
    }
}

pub fn audio_options(a: &AnalysisArgs) -> Option<AudioOptions> {
    (!a.no_audio).then_some(AudioOptions {
        chunk_secs: a.audio_chunk_secs,
        format: match a.audio_format {
            AudioFormatArg::Speech => AudioFormat::Speech16kMono,
            AudioFormatArg::Source => AudioFormat::Source,
        },
    })
}

pub fn analyze(args: AnalyzeArgs, sessions_dir: PathBuf) -> anyhow::Result<()> {
    let mut _lock = None;
    let (input_path, input, default_out) = match (&args.input, &args.session) {
        (_, Some(id)) => {
            let session = SessionsDir::new(&sessions_dir).open(id)?;
            // Its frames and chunks are replaced: not while it is recorded.
            if args.out.is_none() {
                _lock = Some(
                    session
                        .layout()
                        .lock_for_recording(&cht_session::RecorderInfo::this_process())
                        .context("cannot analyse the session into itself")?,
                );
            }
            let input = AnalyzeInput::Session(session.layout());
            (session.path.clone(), input, session.layout())
        }
        (Some(p), None) => {
            let input =
                AnalyzeInput::detect(p).with_context(|| format!("cannot read {}", p.display()))?;
            (p.clone(), input, Layout::new("analysis"))
        }
        (None, None) => anyhow::bail!("give an INPUT or --session ID"),
    };
    let out = args.out.as_ref().map_or(default_out, Layout::new);
    let opts = OfflineOptions {
        detector: detector(args.analysis.detector),
        threshold: args.analysis.scene_threshold,
        settle: args.analysis.settle,
        audio: audio_options(&args.analysis),
        threads: args.jobs,
        every_picture: args.every_picture,
        ..OfflineOptions::default()
    };
    let bus = EventBus::new();
    let printer = args.json.then(|| {
        let sub = bus.subscribe(1 << 16);
        std::thread::spawn(move || {
            for record in sub.events.iter() {
                let _ = crate::stdout_line(&record.to_json());
            }
        })
    });
    let bar = progress_bar(!args.json);
    let mut progress = |done: u64, total: u64| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let summary = cht_analyze::analyze(&input, &out, &opts, &bus, &mut progress)
        .with_context(|| format!("cannot analyse {}", input_path.display()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    drop(bus);
    if let Some(p) = printer {
        let _ = p.join();
    }
    if args.json {
        crate::stdout_line(&serde_json::to_string(
            &serde_json::json!({ "event": "summary", "summary": summary }),
        )?)?;
    } else {
        let fps = summary.pictures as f64 / summary.seconds.max(1e-9);
        crate::stdout_line(&format!(
            "{}: {} pictures in {} GOPs, {} frames written ({} new screens, {} updates) to {}, {} audio chunks; {:.2} s ({fps:.0} frames/s on {} threads)",
            input_path.display(),
            summary.pictures,
            summary.gops,
            summary.frames_written,
            summary.events,
            summary.frames_written - summary.events,
            out.frames_dir().display(),
            summary.audio_chunks,
            summary.seconds,
            summary.threads
        ))?;
    }
    report_decoding(&summary, &input_path)
}

/// Warns about gaps in decoding; fails when the video could not be decoded
/// at all because of its format (the message says what to change), and
/// when nothing in the input could be analysed at all (the message says
/// why).
fn report_decoding(
    summary: &cht_analyze::AnalyzeSummary,
    input: &std::path::Path,
) -> anyhow::Result<()> {
    let d = summary.decode;
    if d.skipped_damaged + d.skipped_until_idr + d.errors > 0 {
        tracing::warn!(
            "decoding gaps: {} damaged, {} skipped until the next IDR, {} decoder errors",
            d.skipped_damaged,
            d.skipped_until_idr,
            d.errors
        );
    }
    if let Some(reason) = &summary.unsupported_video {
        if summary.pictures == 0 {
            anyhow::bail!("cannot analyse the video of {}: {reason}", input.display());
        }
        tracing::warn!("{} access units not decoded: {reason}", d.unsupported);
    }
    if summary.pictures == 0 && summary.audio_chunks == 0 {
        let reason = match (&summary.unsupported_audio, summary.video_codec) {
            (_, Some(codec)) => format!(
                "its {codec} video gave no picture ({} access units damaged, {} refused by the decoder)",
                d.skipped_damaged + d.skipped_until_idr,
                d.errors
            ),
            (Some(audio), None) => audio.clone(),
            (None, None) if !summary.audio_codecs.is_empty() => {
                "its audio gave no chunk (too short, or nothing decoded)".to_string()
            }
            (None, None) if is_matroska(input) => "it is Matroska/WebM, which cht does not \
                 read: remux it first (`ffmpeg -i IN -c copy OUT.mp4`)"
                .to_string(),
            (None, None) => "no audio or video cht can read in it (cht reads MPEG-TS and MP4 \
                 with H.264 video for pictures, AAC or MP3 audio for chunks)"
                .to_string(),
        };
        anyhow::bail!("nothing to analyse in {}: {reason}", input.display());
    }
    Ok(())
}

/// The file starts with the EBML magic of Matroska and WebM.
fn is_matroska(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| magic == [0x1a, 0x45, 0xdf, 0xa3])
}

fn progress_bar(wanted: bool) -> Option<indicatif::ProgressBar> {
    if !wanted || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} analysing [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    Some(bar)
}

pub fn scores(args: ScoresArgs) -> anyhow::Result<()> {
    let input = AnalyzeInput::detect(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let opts = OfflineOptions {
        detector: detector(args.detector),
        threshold: args.scene_threshold,
        audio: None,
        threads: args.jobs,
        // A line per picture: every picture is decoded.
        every_picture: true,
        ..OfflineOptions::default()
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failed = None;
    let summary = cht_analyze::scores(&input, &opts, &mut |line| {
        if failed.is_some() {
            return;
        }
        let r = if args.cuts {
            writeln!(
                out,
                "{},{:.6},{:.6},{}",
                line.frame_index, line.pts_time, line.score, line.cut as u8
            )
        } else {
            writeln!(
                out,
                "{},{:.6},{:.6}",
                line.frame_index, line.pts_time, line.score
            )
        };
        failed = r.err();
    })
    .with_context(|| format!("cannot score {}", args.input.display()))?;
    match failed.map(Err).unwrap_or_else(|| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        r => r?,
    }
    report_decoding(&summary, &args.input)
}
