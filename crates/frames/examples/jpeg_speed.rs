//! Times YUV -> RGB and JPEG encoding per picture size.
//!
//! `cargo run --release -p cht-frames --example jpeg_speed [frame.yuv WxH]`
//! Without arguments it uses a synthetic screen-like picture (flat panels,
//! gradients and dense "text" blocks); with a raw yuv420p file (e.g. from
//! `ffmpeg ... -f rawvideo -pix_fmt yuv420p`) it times that frame instead.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use cht_core::{ColourInfo, Picture};
use cht_frames::{encode_jpeg, yuv420_to_rgb, YuvMatrix, DEFAULT_QUALITY};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let pictures = match args.as_slice() {
        [path, size] => vec![raw_picture(path, size)],
        _ => vec![screen_like(1280, 720), screen_like(1920, 1080)],
    };
    for picture in &pictures {
        report(picture);
    }
}

fn report(picture: &Picture) {
    const RUNS: u32 = 40;
    let matrix = YuvMatrix::for_picture(picture);
    let mut rgb = Vec::new();
    // Minimum over runs: the least disturbed by other processes on the box.
    let convert = fastest(RUNS, || {
        yuv420_to_rgb(black_box(picture), &matrix, &mut rgb).unwrap()
    });
    let mut size = 0;
    let total = fastest(RUNS, || {
        size = encode_jpeg(black_box(picture), DEFAULT_QUALITY)
            .unwrap()
            .len()
    });
    println!(
        "{}x{}: yuv->rgb {:.2} ms, yuv->rgb+jpeg q{} {:.2} ms, {} KiB",
        picture.width,
        picture.height,
        convert.as_secs_f64() * 1e3,
        DEFAULT_QUALITY,
        total.as_secs_f64() * 1e3,
        size / 1024
    );
}

fn fastest(runs: u32, mut f: impl FnMut()) -> std::time::Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn raw_picture(path: &str, size: &str) -> Picture {
    let (w, h) = size.split_once('x').expect("WxH");
    let (w, h): (usize, usize) = (w.parse().unwrap(), h.parse().unwrap());
    let data = std::fs::read(path).expect("readable yuv file");
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    assert!(
        data.len() >= w * h + 2 * cw * ch,
        "file too short for {w}x{h}"
    );
    let plane = |from: usize, len: usize| data[from..from + len].to_vec();
    Picture {
        pts: 0,
        width: w,
        height: h,
        y: plane(0, w * h),
        u: plane(w * h, cw * ch),
        v: plane(w * h + cw * ch, cw * ch),
        y_stride: w,
        uv_stride: cw,
        colour: ColourInfo::default(),
    }
}

/// Panels with gradients plus blocks of high-contrast pseudo-random strokes.
fn screen_like(w: usize, h: usize) -> Picture {
    let mut seed = 0x2545_f491_u32;
    let mut noise = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let mut y = vec![0u8; w * h];
    for row in 0..h {
        for col in 0..w {
            let in_text = (row / 24) % 3 != 0 && (col / 300) % 2 == 0;
            y[row * w + col] = if in_text {
                if noise() % 5 == 0 {
                    30
                } else {
                    225
                }
            } else {
                (16 + (col + row) * 200 / (w + h)) as u8
            };
        }
    }
    let (cw, ch) = (w / 2, h / 2);
    Picture {
        pts: 0,
        width: w,
        height: h,
        y,
        u: (0..cw * ch)
            .map(|i| (90 + (i % cw) * 60 / cw) as u8)
            .collect(),
        v: (0..cw * ch)
            .map(|i| (110 + (i / cw) * 50 / ch) as u8)
            .collect(),
        y_stride: w,
        uv_stride: cw,
        colour: ColourInfo::default(),
    }
}
