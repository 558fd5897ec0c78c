//! Demux throughput on the committed fixture (x264 High + AAC, 1.2 MB).
//!
//! `cht_ts/whole` pushes the file in one call, `cht_ts/64KiB_reads` the way a
//! TCP reader would. `mpeg2ts_reader` runs the `mpeg2ts` crate's own packet
//! reader over the same bytes (no PES assembly at all): the reason cht-ts
//! parses packet headers itself and uses `mpeg2ts` for PAT/PMT only.

use std::hint::black_box;
use std::path::PathBuf;

use cht_ts::{DemuxItem, TsDemuxer};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mpeg2ts::ts::{ReadTsPacket, TsPacketReader};

fn fixture() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/av_high.ts");
    std::fs::read(path).expect("tests/fixtures/av_high.ts")
}

/// Demuxes `data` in reads of `chunk` bytes; returns the items seen.
fn demux(data: &[u8], chunk: usize) -> usize {
    let mut demuxer = TsDemuxer::new();
    let mut count = 0usize;
    let mut sink = |item: DemuxItem| {
        black_box(&item);
        count += 1;
    };
    for piece in data.chunks(chunk) {
        demuxer.push(piece, &mut sink);
    }
    demuxer.finish(&mut sink);
    count
}

fn mpeg2ts_reader(data: &[u8]) -> usize {
    let mut reader = TsPacketReader::new(data);
    let mut count = 0;
    while let Ok(Some(packet)) = reader.read_ts_packet() {
        black_box(&packet);
        count += 1;
    }
    count
}

fn bench_demux(c: &mut Criterion) {
    let data = fixture();
    let mut group = c.benchmark_group("demux");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("cht_ts/whole", |b| {
        b.iter(|| demux(black_box(&data), data.len()))
    });
    group.bench_function("cht_ts/64KiB_reads", |b| {
        b.iter(|| demux(black_box(&data), 64 << 10))
    });
    group.bench_function("mpeg2ts_reader", |b| {
        b.iter(|| mpeg2ts_reader(black_box(&data)))
    });
    group.finish();
}

criterion_group!(benches, bench_demux);
criterion_main!(benches);
