//! TS file -> one fMP4 file, with the same writer as live recording.

use crate::{RecordError, SegmentEvent, SegmentOptions, SegmentRecorder, SegmentStats};
use cht_fmp4::SegmentSummary;
use cht_ts::{DemuxItem, DemuxStats, TsDemuxer};
use serde::Serialize;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// What [`remux_file`] did.
#[derive(Debug, Clone, Serialize)]
pub struct RemuxSummary {
    /// What the demuxer saw.
    pub demux: DemuxStats,
    /// What the (first) output file holds.
    pub segment: SegmentSummary,
    /// Further output files, when the input's media did not fit one file's
    /// tracks (a new audio configuration, a track that came late): `NAME_001.mp4`...
    pub more_files: Vec<std::path::PathBuf>,
    /// What the recorder dropped.
    pub recorder: SegmentStats,
}

const READ_SIZE: usize = 1 << 20;

/// Remuxes an MPEG-TS file into one fragmented MP4, with the live recorder's
/// segment logic and writer. [`RecordError::NoMedia`] when nothing in it can
/// be recorded.
pub fn remux_file(
    input: &Path,
    output: &Path,
    opts: SegmentOptions,
) -> Result<RemuxSummary, RecordError> {
    let io_err = |source| RecordError::Io {
        path: input.to_path_buf(),
        source,
    };
    let mut file = File::open(input).map_err(io_err)?;
    let mut demuxer = TsDemuxer::new();
    let mut recorder = SegmentRecorder::new(output, opts);
    let mut failure = None;
    let mut buf = vec![0u8; READ_SIZE];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_err(e)),
        };
        demuxer.push(&buf[..n], &mut |item: DemuxItem| {
            push(&mut recorder, &item, &mut failure)
        });
        if let Some(e) = failure.take() {
            return Err(e);
        }
    }
    demuxer.finish(&mut |item: DemuxItem| push(&mut recorder, &item, &mut failure));
    if let Some(e) = failure.take() {
        return Err(e);
    }
    let demux = demuxer.stats().clone();
    let stats = recorder.stats();
    let (events, result) = recorder.finish_all();
    result?;
    let mut finished = events.into_iter().filter_map(|e| match e {
        SegmentEvent::Finished(done) => Some(done),
        SegmentEvent::Started { .. } => None,
    });
    let Some(first) = finished.next() else {
        return Err(RecordError::NoMedia(input.to_path_buf()));
    };
    Ok(RemuxSummary {
        demux,
        segment: first.summary,
        more_files: finished.map(|f| f.path).collect(),
        recorder: stats,
    })
}

fn push(recorder: &mut SegmentRecorder, item: &DemuxItem, failure: &mut Option<RecordError>) {
    if let DemuxItem::Tracks(list) = item {
        for stream in &list.ignored {
            tracing::warn!("{stream}");
        }
    }
    if failure.is_none() {
        if let Err(e) = recorder.push(item) {
            *failure = Some(e);
        }
    }
    for notice in recorder.take_notices() {
        tracing::warn!("{notice}");
    }
}
