//! Pictures with known colours, built with floating-point reference maths
//! (independent of the fixed-point code under test).

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use cht_core::{ColourInfo, Picture};

/// 75% colour bars: white, yellow, cyan, green, magenta, red, blue, black.
pub const BARS_75: [[u8; 3]; 8] = [
    [191, 191, 191],
    [191, 191, 0],
    [0, 191, 191],
    [0, 191, 0],
    [191, 0, 191],
    [191, 0, 0],
    [0, 0, 191],
    [0, 0, 0],
];

/// RGB -> Y'CbCr (8-bit) with luma weights `kr`/`kb`, limited or full range.
pub fn rgb_to_yuv(rgb: [u8; 3], kr: f64, kb: f64, full_range: bool) -> [u8; 3] {
    let [r, g, b] = rgb.map(|c| c as f64 / 255.0);
    let y = kr * r + (1.0 - kr - kb) * g + kb * b;
    let pb = (b - y) / (2.0 * (1.0 - kb));
    let pr = (r - y) / (2.0 * (1.0 - kr));
    let (y8, c8) = if full_range {
        (y * 255.0, [128.0 + pb * 255.0, 128.0 + pr * 255.0])
    } else {
        (16.0 + y * 219.0, [128.0 + pb * 224.0, 128.0 + pr * 224.0])
    };
    [
        y8.round() as u8,
        c8[0].round().clamp(0.0, 255.0) as u8,
        c8[1].round().clamp(0.0, 255.0) as u8,
    ]
}

/// Vertical bars of equal width (a multiple of 16 pixels) across the picture.
pub fn bars_picture(
    width: usize,
    height: usize,
    colours: &[[u8; 3]],
    colour: ColourInfo,
) -> Picture {
    let bar_w = width / colours.len();
    assert_eq!(bar_w % 16, 0);
    let (cw, ch) = (width / 2, height / 2);
    let mut p = Picture {
        pts: 0,
        width,
        height,
        y: vec![0; width * height],
        u: vec![0; cw * ch],
        v: vec![0; cw * ch],
        y_stride: width,
        uv_stride: cw,
        colour,
    };
    for row in 0..height {
        for x in 0..width {
            p.y[row * width + x] = colours[x / bar_w][0];
        }
    }
    for row in 0..ch {
        for x in 0..cw {
            p.u[row * cw + x] = colours[2 * x / bar_w][1];
            p.v[row * cw + x] = colours[2 * x / bar_w][2];
        }
    }
    p
}

/// A small busy picture (gradients) for store tests.
pub fn gradient_picture(width: usize, height: usize) -> Picture {
    let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
    Picture {
        pts: 0,
        width,
        height,
        y: (0..width * height)
            .map(|i| (16 + (i % width) * 200 / width) as u8)
            .collect(),
        u: (0..cw * ch)
            .map(|i| (64 + (i / cw) * 128 / ch) as u8)
            .collect(),
        v: vec![160; cw * ch],
        y_stride: width,
        uv_stride: cw,
        colour: ColourInfo::default(),
    }
}

/// Decodes a JPEG to packed RGB with an independent decoder.
pub fn decode_jpeg(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    let pixels = decoder.decode().expect("valid JPEG");
    let info = decoder.info().unwrap();
    assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24);
    (info.width as usize, info.height as usize, pixels)
}
