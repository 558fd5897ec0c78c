//! TS -> fMP4 remux throughput on the committed fixture (x264 High + AAC).
//!
//! `remux/in_memory` is demux + fragment writing into `io::sink()`: the CPU
//! cost of the recorder. `remux/file` is `cht_record::remux_file`, the code
//! behind `cht remux`, writing a real file (page cache). Whole-process speed
//! against ffmpeg is measured by `cargo xtask bench-remux`.

use std::hint::black_box;
use std::path::PathBuf;

use cht_fmp4::{FragmentOptions, FragmentWriter};
use cht_record::{remux_file, SegmentOptions};
use cht_ts::{DemuxItem, TsDemuxer};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/av_high.ts")
}

/// Demux + write; the writer starts once both configurations are known
/// (the fixture has them in its first packets).
fn remux_in_memory(data: &[u8]) -> u64 {
    let mut demuxer = TsDemuxer::new();
    let (mut video, mut audio) = (None, None);
    let mut writer: Option<FragmentWriter<std::io::Sink>> = None;
    let mut sink = |item: DemuxItem| {
        match &item {
            DemuxItem::VideoParams(c) => video = Some(c.clone()),
            DemuxItem::AudioParams(c) => audio = Some(c.clone()),
            _ => {}
        }
        if writer.is_none() && video.is_some() && audio.is_some() {
            let w = FragmentWriter::new(
                std::io::sink(),
                video.as_ref(),
                audio.as_slice(),
                FragmentOptions::default(),
            );
            writer = Some(w.expect("init segment"));
        }
        if let Some(w) = writer.as_mut() {
            let _ = match &item {
                DemuxItem::Video(au) => w.push_video(au),
                DemuxItem::Audio(f) => w.push_audio(f),
                _ => Ok(None),
            };
        }
    };
    for piece in data.chunks(1 << 20) {
        demuxer.push(piece, &mut sink);
    }
    demuxer.finish(&mut sink);
    writer.map_or(0, |w| w.finish().expect("finish").1.bytes_written)
}

fn bench_remux(c: &mut Criterion) {
    let input = fixture_path();
    let data = std::fs::read(&input).expect("fixture");
    let out_dir = tempfile::tempdir().expect("tempdir");
    let output = out_dir.path().join("out.mp4");
    let mut group = c.benchmark_group("remux");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("in_memory", |b| {
        b.iter(|| remux_in_memory(black_box(&data)))
    });
    group.bench_function("file", |b| {
        b.iter(|| remux_file(&input, &output, SegmentOptions::default()).expect("remux"))
    });
    group.finish();
}

criterion_group!(benches, bench_remux);
criterion_main!(benches);
