//! `cht record` and `cht remux`.

use crate::cli::{Relay, RecordArgs, RemuxArgs};
use anyhow::Context;
use cht_ingest::{IngestOptions, IngestServer, UdpRelay};
use cht_record::{remux_file, LiveOptions, LiveRecorder, SegmentOptions};
use cht_session::SessionsDir;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn run(args: RecordArgs, sessions_dir: PathBuf) -> anyhow::Result<()> {
    let dir = SessionsDir::new(&sessions_dir);
    let session = match &args.session {
        Some(id) => dir.resume(id).context("cannot resume the session")?,
        None => dir.create_new().context("cannot create a session")?,
    };
    let stop = install_stop_handler()?;
    let relay = match args.relay {
        Relay::Off => None,
        Relay::To(addr) => Some(UdpRelay::new(addr)?),
    };
    let server = IngestServer::bind(IngestOptions {
        listen: args.listen,
        idle_timeout: args.idle_timeout,
        ..IngestOptions::default()
    })?;
    let addr = server.local_addr();
    tracing::info!("session {} in {}", session.id, session.path.display());
    eprintln!("cht: listening for MPEG-TS on tcp://{addr}  (Ctrl-C to stop)");
    eprintln!("cht: send a stream with:  ffmpeg -re -i in.mp4 -c:v libx264 -c:a aac -f mpegts tcp://{addr}");
    match args.relay {
        Relay::To(relay) => eprintln!("cht: watch it live with:   mpv udp://{relay}   (or ffplay udp://{relay})"),
        Relay::Off => eprintln!("cht: UDP relay off"),
    }
    let opts = LiveOptions {
        segment: SegmentOptions { fragment_ms: args.fragment_ms, fsync: args.fsync },
        stats_every: Some(Duration::from_secs(5)),
    };
    let mut recorder = LiveRecorder::new(session.clone(), opts, relay);
    server.run(&mut recorder, &stop, args.once)?;
    let stats = recorder.stats().clone();
    drop(recorder);
    eprintln!(
        "cht: stopped; {} segment(s) in {}",
        stats.segments,
        session.stream_dir().display()
    );
    Ok(())
}

/// First Ctrl-C/SIGTERM: finish the fragment in progress and exit cleanly.
/// Second: exit at once (what is on disk is already whole fragments).
fn install_stop_handler() -> anyhow::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("cht: second interrupt, exiting now");
            std::process::exit(130);
        }
        eprintln!("cht: stopping (finishing the current fragment; interrupt again to exit now)");
    })
    .context("cannot install the Ctrl-C handler")?;
    Ok(stop)
}

pub fn remux(args: RemuxArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let opts = SegmentOptions { fragment_ms: args.fragment_ms, fsync: false };
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
