//! What a smaller picture costs (`GET /sessions/{id}/frames/F0001.jpg?width=`,
//! `cht mcp`'s `--picture-width`): decoding a 1080p screen JPEG alone (the
//! baseline), then decoding, averaging down and encoding again at 1280 and
//! 320 pixels wide.
//!
//! `cargo bench --bench picture -- --warm-up-time 1 --measurement-time 3`

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use cht_scene::synthetic::screen_frame;
use criterion::{criterion_group, criterion_main, Criterion};

/// A 1080p screen-like picture as cht writes it (quality 85).
fn screen_jpeg() -> Vec<u8> {
    let (w, h) = (1920, 1080);
    let (luma, stride) = screen_frame(w, h, 3);
    let rgb: Vec<u8> = (0..h)
        .flat_map(|y| luma[y * stride..y * stride + w].to_vec())
        .flat_map(|v| [v, v / 2 + 40, 255 - v])
        .collect();
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, cht_frames::DEFAULT_QUALITY)
        .encode(&rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    jpeg
}

fn bench_scale(c: &mut Criterion) {
    let jpeg = screen_jpeg();
    let mut group = c.benchmark_group("picture-1080p");
    group.bench_function("decode-only", |b| {
        b.iter(|| {
            jpeg_decoder::Decoder::new(black_box(jpeg.as_slice()))
                .decode()
                .unwrap()
        })
    });
    for width in [1280, 320] {
        group.bench_function(format!("scale-to-{width}"), |b| {
            b.iter(|| cht_frames::scale_jpeg(black_box(&jpeg), width).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench_scale);
criterion_main!(benches);
