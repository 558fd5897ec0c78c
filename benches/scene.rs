//! Scene-scoring costs on 720p, 1080p and 4K luma pairs (screen-like content
//! with noise, decoder-padded strides): SAD, histogram, and the whole
//! per-frame score, for every kernel this CPU runs.
//!
//! `cargo bench --bench scene -- --warm-up-time 1 --measurement-time 3`
//!
//! `score/*/push` keeps a copy of each frame (the plain API); `push_after`
//! is the zero-copy API for callers that hold the previous frame.
//! `screen/*` is what the default detector pays per frame: the frame's
//! signature, then the screen-event detector's step, on a still screen, on
//! one where only a pointer moves (the detector then locates it, for hover
//! effects), and on one that changes every frame (its worst case).

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use cht_scene::histogram::{LumaHistogram, SampleGrid};
use cht_scene::synthetic::{screen_frame, SIZES};
use cht_scene::{
    scalar, Detector, FrameSignature, Kernel, LumaPlane, SceneDetector, ScreenEvents, ScreenOptions,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::sync::Arc;

fn planes(frames: &[(Vec<u8>, usize)], w: usize, h: usize) -> Vec<LumaPlane<'_>> {
    frames
        .iter()
        .map(|(d, s)| LumaPlane::new(d, w, h, *s).unwrap())
        .collect()
}

fn bench_sad(c: &mut Criterion) {
    let mut group = c.benchmark_group("sad");
    for (name, w, h) in SIZES {
        let frames = [screen_frame(w, h, 0), screen_frame(w, h, 1)];
        let p = planes(&frames, w, h);
        group.throughput(Throughput::Elements((w * h) as u64));
        group.bench_function(BenchmarkId::new("scalar-reference", name), |b| {
            b.iter(|| scalar::sad(black_box(&p[0]), black_box(&p[1])).unwrap())
        });
        for kernel in Kernel::available() {
            group.bench_function(BenchmarkId::new(kernel.name(), name), |b| {
                b.iter(|| kernel.sad(black_box(&p[0]), black_box(&p[1])).unwrap())
            });
        }
    }
    group.finish();
}

fn bench_histogram(c: &mut Criterion) {
    let mut group = c.benchmark_group("histogram");
    for (name, w, h) in SIZES {
        let frames = [screen_frame(w, h, 0)];
        let p = planes(&frames, w, h);
        let (every, grid) = (SampleGrid::with_step(1), SampleGrid::for_size(w, h));
        group.bench_function(BenchmarkId::new("every-pixel", name), |b| {
            b.iter(|| {
                LumaHistogram::compute(black_box(&p[0]), every)
                    .unwrap()
                    .bins()
            })
        });
        group.bench_function(BenchmarkId::new("grid-scalar-reference", name), |b| {
            b.iter(|| scalar::histogram(black_box(&p[0]), grid).unwrap())
        });
        group.bench_function(BenchmarkId::new("grid", name), |b| {
            b.iter(|| {
                LumaHistogram::compute(black_box(&p[0]), grid)
                    .unwrap()
                    .bins()
            })
        });
    }
    group.finish();
}

/// The whole per-frame score: what the pipeline pays for each decoded frame.
fn bench_score(c: &mut Criterion) {
    let mut group = c.benchmark_group("score");
    for (name, w, h) in SIZES {
        let frames = [screen_frame(w, h, 0), screen_frame(w, h, 1)];
        let p = planes(&frames, w, h);
        let mut runs = vec![
            (Kernel::Scalar, false),
            (Kernel::Wide, false),
            (Kernel::best(), false),
        ];
        if Kernel::Avx512.is_available() && Kernel::best() != Kernel::Avx512 {
            runs.push((Kernel::Avx512, false));
        }
        if Kernel::Avx2.is_available() && Kernel::best() != Kernel::Avx2 {
            runs.push((Kernel::Avx2, false));
        }
        if w * h >= 3840 * 2160 {
            runs.push((Kernel::best(), true));
        }
        for (kernel, parallel) in runs {
            {
                let detector = Detector::Ffmpeg;
                let label = format!(
                    "{detector:?}-{}{}",
                    kernel.name(),
                    if parallel { "-rayon" } else { "" }
                );
                let new = || {
                    SceneDetector::new(0.3)
                        .unwrap()
                        .with_kernel(kernel)
                        .with_parallel(parallel)
                };
                let mut scorer = new();
                let mut i = 0;
                group.bench_function(
                    BenchmarkId::new(format!("{label}/push").to_lowercase(), name),
                    |b| {
                        b.iter(|| {
                            i += 1;
                            scorer.push(black_box(&p[i % 2])).unwrap().score
                        })
                    },
                );
                let mut scorer = new();
                group.bench_function(
                    BenchmarkId::new(format!("{label}/push_after").to_lowercase(), name),
                    |b| {
                        b.iter(|| {
                            i += 1;
                            scorer
                                .push_after(black_box(&p[(i + 1) % 2]), black_box(&p[i % 2]))
                                .unwrap()
                                .score
                        })
                    },
                );
            }
        }
    }
    group.finish();
}

/// The default detector's cost per frame: signature + detector step.
fn bench_screen(c: &mut Criterion) {
    let mut group = c.benchmark_group("screen");
    for (name, w, h) in SIZES {
        let frames = [
            screen_frame(w, h, 0),
            screen_frame(w, h, 1),
            with_pointer(screen_frame(w, h, 0), w / 2, h / 2),
            with_pointer(screen_frame(w, h, 0), w / 2 + 24, h / 2 + 8),
        ];
        let p = planes(&frames, w, h);
        let mut kernels = vec![Kernel::Scalar, Kernel::best()];
        if Kernel::Avx2.is_available() && Kernel::best() != Kernel::Avx2 {
            kernels.push(Kernel::Avx2);
        }
        for kernel in kernels {
            group.bench_function(
                BenchmarkId::new(format!("signature-{}", kernel.name()), name),
                |b| b.iter(|| FrameSignature::with_kernel(black_box(&p[0]), kernel).unwrap()),
            );
            for (case, first) in [("still", None), ("pointer", Some(2)), ("changing", Some(0))] {
                let mut detector = ScreenEvents::new(ScreenOptions::default());
                let mut i = 0usize;
                group.bench_function(
                    BenchmarkId::new(format!("{case}-{}", kernel.name()), name),
                    |b| {
                        b.iter(|| {
                            i += 1;
                            let plane = &p[first.map_or(0, |f| f + i % 2)];
                            let sig =
                                FrameSignature::with_kernel(black_box(plane), kernel).unwrap();
                            detector.push(Arc::new(sig), i as f64 / 30.0).pictures.len()
                        })
                    },
                );
            }
        }
    }
    group.finish();
}

/// `frame` with a pointer-sized dark block (12x19) at (`x`, `y`).
fn with_pointer((mut data, stride): (Vec<u8>, usize), x: usize, y: usize) -> (Vec<u8>, usize) {
    for row in y..y + 19 {
        data[row * stride + x..row * stride + x + 12].fill(0);
    }
    (data, stride)
}

criterion_group!(
    benches,
    bench_sad,
    bench_histogram,
    bench_score,
    bench_screen
);
criterion_main!(benches);
