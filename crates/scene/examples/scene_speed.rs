//! Per-frame costs, as the minimum over many runs: on a shared, busy machine
//! the minimum is the uncontended cost, where means and medians drift.
//!
//! `cargo run --release -p cht-scene --example scene_speed`

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use cht_scene::histogram::{LumaHistogram, SampleGrid};
use cht_scene::scan::FrameScanner;
use cht_scene::synthetic::{screen_frame, SIZES};
use cht_scene::{scalar, Detector, Kernel, LumaPlane, SceneDetector};

fn min_time(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    println!(
        "kernels: {:?}; minimum of {runs} runs, µs",
        Kernel::available()
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
    );
    for (name, w, h) in SIZES {
        let frames = [screen_frame(w, h, 0), screen_frame(w, h, 1)];
        let planes: Vec<LumaPlane<'_>> = frames
            .iter()
            .map(|(d, s)| LumaPlane::new(d, w, h, *s).unwrap())
            .collect();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let mut line = format!("{name:6}");
        let sad_scalar = min_time(runs, || {
            drop(black_box(scalar::sad(&planes[0], &planes[1])))
        });
        line += &format!(" sad scalar {:7.1}", us(sad_scalar));
        for k in Kernel::available().into_iter().skip(1) {
            let t = min_time(runs, || drop(black_box(k.sad(&planes[0], &planes[1]))));
            line += &format!(
                " {} {:6.1} ({:.1}x)",
                k.name(),
                us(t),
                sad_scalar.as_secs_f64() / t.as_secs_f64()
            );
        }
        println!("{line}");
        let grid = SampleGrid::for_size(w, h);
        let hist_scalar = min_time(runs, || {
            drop(black_box(scalar::histogram(&planes[0], grid)))
        });
        let hist_fast = min_time(runs, || {
            drop(black_box(LumaHistogram::compute(&planes[0], grid)))
        });
        let every = SampleGrid::with_step(1);
        let hist_all = min_time(runs.min(50), || {
            drop(black_box(LumaHistogram::compute(&planes[0], every)))
        });
        println!(
            "{name:6} histogram grid step {}: scalar {:6.1} partials {:6.1}; every pixel {:7.1}",
            grid.step(),
            us(hist_scalar),
            us(hist_fast),
            us(hist_all)
        );
        let mut line = format!("{name:6} scan copying / after");
        for k in Kernel::available() {
            let mut scanner = FrameScanner::new(k);
            let mut i = 0;
            let copying = min_time(runs, || {
                i += 1;
                black_box(scanner.scan(&planes[i % 2]).unwrap().map(|d| d.sad));
            });
            let after = min_time(runs, || {
                i += 1;
                black_box(
                    scanner
                        .scan_after(&planes[(i + 1) % 2], &planes[i % 2])
                        .unwrap()
                        .sad,
                );
            });
            line += &format!(" {} {:6.1} / {:6.1}", k.name(), us(copying), us(after));
        }
        println!("{line}");
        let mut line = format!("{name:6} push / push_after");
        let mut configs = vec![(Kernel::Scalar, false), (Kernel::best(), false)];
        if w * h >= 3840 * 2160 {
            configs.push((Kernel::best(), true));
        }
        for (k, parallel) in configs {
            {
                let det = Detector::Ffmpeg;
                let mut d = SceneDetector::new(0.3)
                    .unwrap()
                    .with_kernel(k)
                    .with_parallel(parallel);
                let mut i = 0;
                let push = min_time(runs, || {
                    i += 1;
                    black_box(d.push(&planes[i % 2]).unwrap().score);
                });
                let after = min_time(runs, || {
                    i += 1;
                    black_box(
                        d.push_after(&planes[(i + 1) % 2], &planes[i % 2])
                            .unwrap()
                            .score,
                    );
                });
                let label = format!(
                    "{:?}/{}{}",
                    det,
                    k.name(),
                    if parallel { "+rayon" } else { "" }
                );
                line += &format!(" {label} {:6.1} / {:6.1}", us(push), us(after));
            }
        }
        println!("{line}");
    }
}
