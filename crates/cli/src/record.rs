//! `cht record` and `cht remux`.

use crate::cli::{AudioFormatArg, DetectorArg, Endpoint, RecordArgs, RemuxArgs};
use crate::live::{FanOut, InputStatus, RelayStage, StatusReporter};
use anyhow::Context;
use cht_analyze::{AnalysisOptions, Backlog, LiveAnalysis};
use cht_audio::{AudioFormat, AudioOptions};
use cht_events::{EventBus, StatusBoard};
use cht_ingest::{IngestOptions, IngestServer, UdpRelay};
use cht_record::{remux_file, LiveRecorder, SegmentOptions};
use cht_scene::Detector;
use cht_session::{RecorderInfo, SessionsDir};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the live status is reported (a `stats` event, a log line).
const STATUS_EVERY: Duration = Duration::from_secs(5);

pub fn run(args: RecordArgs, sessions_dir: PathBuf, quiet: bool) -> anyhow::Result<()> {
    let dir = SessionsDir::new(&sessions_dir);
    let session = match &args.session {
        Some(id) => dir.resume(id).context("cannot resume the session")?,
        None => dir.create_new().context("cannot create a session")?,
    };
    let result = record_into(&session, &args, &sessions_dir, quiet);
    // A new session that ends up with no file at all (nobody sent anything,
    // or the start failed) leaves no trace.
    if args.session.is_none() && session.layout().remove_if_empty() && result.is_ok() {
        eprintln!(
            "cht: nothing was recorded; the empty session {} was removed",
            session.id
        );
    }
    result
}

fn record_into(
    session: &cht_session::Session,
    args: &RecordArgs,
    sessions_dir: &Path,
    quiet: bool,
) -> anyhow::Result<()> {
    let args = args.clone();
    // One recorder per session: the indexes have one writer; a second
    // recorder, an analysis into the session and `sessions delete` are
    // refused, naming this process.
    let mut lock = session
        .layout()
        .lock_for_recording(&RecorderInfo::this_process())
        .with_context(|| format!("cannot record into session {}", session.id))?;
    let shutdown = crate::shutdown::Shutdown::install()?;
    // A forced exit leaves no lock file behind either.
    shutdown.remove_at_exit(session.path.join(cht_session::LOCK_FILE));
    let stop = shutdown.flag();
    let relay = args.relay.addr().map(UdpRelay::new).transpose()?;
    let server = IngestServer::bind(IngestOptions {
        listen: args.listen,
        idle_timeout: args.idle_timeout,
        ..IngestOptions::default()
    })?;
    let addr = server.local_addr();
    let bus = EventBus::new();
    let printer = args.events.map(|_| spawn_event_printer(&bus));
    let terminal = (!quiet).then(|| crate::terminal::spawn_printer(&bus, &session.path));
    let mut hooks = Vec::new();
    if let Some(cmd) = &args.on_frame {
        hooks.push(crate::hooks::spawn(
            "on-frame",
            cmd,
            &bus,
            &session.path,
            crate::hooks::frame_path,
            shutdown.clone(),
        )?);
    }
    if let Some(cmd) = &args.on_segment {
        hooks.push(crate::hooks::spawn(
            "on-segment",
            cmd,
            &bus,
            Path::new(""),
            crate::hooks::segment_path,
            shutdown.clone(),
        )?);
    }
    let board = StatusBoard::new();
    let input = InputStatus::on_board(session, &board);
    let mut relay = relay.map(|r| RelayStage::new(r, &board));
    let mut recorder = LiveRecorder::new(
        session.clone(),
        SegmentOptions {
            fragment_ms: args.fragment_ms,
            fsync: args.fsync,
        },
        bus.clone(),
    );
    board.add(recorder.status());
    let mut analysis =
        LiveAnalysis::start(session, analysis_options(&args), bus.clone(), board.clone())
            .context("cannot start the analysis")?;
    let control = match args.control {
        Endpoint::At(control_addr) => Some(crate::control::serve(
            control_addr,
            session,
            analysis.control(),
            stop.clone(),
            sessions_dir,
        )?),
        Endpoint::Off => None,
    };
    if let Some(c) = &control {
        shutdown.remove_at_exit(c.token.path().to_path_buf());
        // Others (`cht mcp`, `cht serve`) learn where to send changes.
        let mut info = RecorderInfo::this_process();
        info.control = Some(c.addr.to_string());
        if let Err(e) = lock.describe(&info) {
            tracing::warn!("cannot describe this recorder in the session's lock file: {e}");
        }
    }
    tracing::info!("session {} in {}", session.id, session.path.display());
    print_hints(&args, addr, control.as_ref(), session.id.as_str());
    let demo = args
        .demo
        .then(|| spawn_demo(addr, args.demo_duration, stop.clone()));
    let recorder_status = recorder.status();
    let mut reporter = StatusReporter::new(board.clone(), bus.clone(), STATUS_EVERY);
    let result = {
        // Siblings fed by one demuxer: relay, recorder, analysis, reporter.
        let mut fan_out = FanOut::new(session.clone(), input);
        if let Some(relay) = relay.as_mut() {
            fan_out = fan_out.with_stage(relay);
        }
        let mut fan_out = fan_out
            .with_stage(&mut recorder)
            .with_stage(&mut analysis)
            .with_stage(&mut reporter);
        let result = server.run(&mut fan_out, &stop, args.once || args.demo);
        fan_out.finish();
        result
    };
    // The stages let go of the bus, so that its subscribers see it end.
    drop((recorder, reporter, relay));
    analysis.finish(if stop.load(Ordering::SeqCst) || shutdown.requested() {
        Backlog::Abandon
    } else {
        Backlog::Analyse
    });
    if let Some(demo) = demo {
        stop.store(true, Ordering::SeqCst);
        let _ = demo.join();
    }
    if let Some(c) = control {
        c.shutdown();
    }
    drop(bus);
    for h in hooks {
        let _ = h.join();
    }
    for p in [printer, terminal].into_iter().flatten() {
        let _ = p.join();
    }
    result?;
    let segments = recorder_status.get().segments_recorded;
    if segments > 0 {
        eprintln!(
            "cht: stopped; {segments} segment(s) in {}",
            session.path.display()
        );
    }
    Ok(())
}

fn analysis_options(args: &RecordArgs) -> AnalysisOptions {
    let a = &args.analysis;
    AnalysisOptions {
        detector: match a.detector {
            DetectorArg::Default => Detector::Default,
            DetectorArg::Ffmpeg => Detector::Ffmpeg,
        },
        threshold: a.scene_threshold,
        settle: a.settle,
        audio: (!a.no_audio).then_some(AudioOptions {
            chunk_secs: a.audio_chunk_secs,
            format: match a.audio_format {
                AudioFormatArg::Speech => AudioFormat::Speech16kMono,
                AudioFormatArg::Source => AudioFormat::Source,
            },
        }),
        transcribe: args.on_audio_chunk.clone(),
        ..AnalysisOptions::default()
    }
}

fn print_hints(
    args: &RecordArgs,
    addr: SocketAddr,
    control: Option<&cht_api::ApiServer>,
    session: &str,
) {
    if args.demo {
        eprintln!(
            "cht: listening on tcp://{addr}; recording the built-in demo source (Ctrl-C to stop)"
        );
    } else {
        eprintln!("cht: listening for MPEG-TS on tcp://{addr}  (Ctrl-C to stop)");
        eprintln!("cht: send a stream with:  ffmpeg -re -i in.mp4 -c:v libx264 -pix_fmt yuv420p -c:a aac -f mpegts tcp://{addr}");
        eprintln!(
            "cht: or share this screen:  ffmpeg -f x11grab -framerate 30 -i :0 -f pulse -i default -c:v libx264 \
             -preset veryfast -tune zerolatency -pix_fmt yuv420p -c:a aac -f mpegts tcp://{addr}"
        );
        eprintln!("cht: no sender at hand?   cht record --demo");
    }
    match args.relay {
        Endpoint::At(relay) => {
            eprintln!("cht: watch it live with:   mpv udp://{relay}   (or ffplay udp://{relay})")
        }
        Endpoint::Off => eprintln!("cht: UDP relay off"),
    }
    if let Some(c) = control {
        eprintln!(
            "cht: control API on http://{}  (cht status, cht capture, cht threshold T); its token is in {}",
            c.addr,
            c.token.path().display()
        );
        // As Jupyter does, the URL a person opens carries the token; only
        // on a terminal, so that a log file never holds it.
        use std::io::IsTerminal;
        if std::io::stderr().is_terminal() {
            eprintln!(
                "cht: watch it in a browser:  http://{}/view/{session}?token={}",
                c.addr,
                c.token.secret()
            );
        } else {
            eprintln!(
                "cht: watch it in a browser:  http://{}/view/{session}?token=TOKEN  (TOKEN: the token file's contents)",
                c.addr
            );
        }
    }
}

/// Prints every event as one JSON line on stdout.
fn spawn_event_printer(bus: &EventBus) -> std::thread::JoinHandle<()> {
    let sub = bus.subscribe(4096);
    std::thread::spawn(move || {
        use std::io::Write;
        for record in sub.events.iter() {
            let mut out = std::io::stdout().lock();
            if writeln!(out, "{}", record.to_json())
                .and_then(|_| out.flush())
                .is_err()
            {
                break;
            }
        }
        if sub.missed() > 0 {
            tracing::warn!("{} events were not printed (stdout too slow)", sub.missed());
        }
    })
}

fn spawn_demo(
    addr: SocketAddr,
    duration: Option<Duration>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let opts = cht_demo::DemoOptions {
            duration,
            ..cht_demo::DemoOptions::default()
        };
        match cht_demo::send_demo(addr, opts, &stop) {
            Ok(stats) => tracing::info!("demo source finished: {:.1} s sent", stats.media_secs),
            Err(e) if stop.load(Ordering::SeqCst) => tracing::debug!("demo source stopped: {e}"),
            Err(e) => tracing::error!("demo source failed: {e}"),
        }
    })
}

pub fn remux(args: RemuxArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let opts = SegmentOptions {
        fragment_ms: args.fragment_ms,
        fsync: false,
    };
    let summary = remux_file(&args.input, &args.output, opts)
        .with_context(|| format!("cannot remux {}", args.input.display()))?;
    let secs = started.elapsed().as_secs_f64();
    let mb = summary.demux.bytes as f64 / 1e6;
    eprintln!(
        "cht: {} -> {}: {} video + {} audio samples, {:.2} s of media, {} fragments; {:.1} MB in {:.3} s ({:.0} MB/s)",
        args.input.display(),
        args.output.display(),
        summary.segment.video_samples,
        summary.segment.audio_samples,
        summary.segment.duration_seconds,
        summary.segment.fragments,
        mb,
        secs,
        mb / secs.max(1e-9)
    );
    if summary.demux.cc_errors > 0 || summary.demux.skipped_bytes > 0 {
        tracing::warn!(
            "input damage: {} continuity errors, {} garbage bytes skipped",
            summary.demux.cc_errors,
            summary.demux.skipped_bytes
        );
    }
    Ok(())
}
