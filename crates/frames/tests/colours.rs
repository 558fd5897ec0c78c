//! Colour correctness: known YUV bars must come back as the right RGB after
//! conversion, JPEG encoding and decoding by an independent decoder.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

mod support;

use cht_core::{ColourInfo, MatrixCoefficients};
use cht_frames::encode_jpeg;
use support::{bars_picture, decode_jpeg, rgb_to_yuv, BARS_75};

const BT601: (f64, f64) = (0.299, 0.114);
const BT709: (f64, f64) = (0.2126, 0.0722);

/// Largest per-channel error at the centre of each bar.
fn worst_bar_error(jpeg: &[u8], width: usize, height: usize) -> i32 {
    let (w, h, rgb) = decode_jpeg(jpeg);
    assert_eq!((w, h), (width, height));
    let bar_w = width / BARS_75.len();
    let mut worst = 0;
    for (i, expected) in BARS_75.iter().enumerate() {
        let (x, y) = (i * bar_w + bar_w / 2, height / 2);
        let px = &rgb[(y * width + x) * 3..][..3];
        for c in 0..3 {
            worst = worst.max((px[c] as i32 - expected[c] as i32).abs());
        }
    }
    worst
}

fn encoded_bars(width: usize, height: usize, (kr, kb): (f64, f64), colour: ColourInfo) -> Vec<u8> {
    let yuv = BARS_75.map(|rgb| rgb_to_yuv(rgb, kr, kb, colour.full_range));
    encode_jpeg(&bars_picture(width, height, &yuv, colour), 85).unwrap()
}

#[test]
fn sd_limited_range_bt601_bars_keep_their_colours() {
    let jpeg = encoded_bars(640, 480, BT601, ColourInfo::default());
    assert!(worst_bar_error(&jpeg, 640, 480) <= 4);
}

#[test]
fn untagged_hd_is_bt601_as_libswscale_made_it() {
    let jpeg = encoded_bars(1280, 720, BT601, ColourInfo::default());
    assert!(worst_bar_error(&jpeg, 1280, 720) <= 4);
}

#[test]
fn signalled_bt709_is_honoured_at_hd_size() {
    let colour = ColourInfo {
        full_range: false,
        matrix: MatrixCoefficients::Bt709,
    };
    let jpeg = encoded_bars(1280, 720, BT709, colour);
    assert!(worst_bar_error(&jpeg, 1280, 720) <= 4);
}

#[test]
fn signalled_full_range_bt709_is_honoured_at_sd_size() {
    let colour = ColourInfo {
        full_range: true,
        matrix: MatrixCoefficients::Bt709,
    };
    let jpeg = encoded_bars(640, 360, BT709, colour);
    assert!(worst_bar_error(&jpeg, 640, 360) <= 4);
}

#[test]
fn the_check_catches_wrong_range_or_matrix() {
    // BT.709 samples read as BT.601 (SD, nothing signalled): hues shift.
    let wrong_matrix = encoded_bars(640, 360, BT709, ColourInfo::default());
    assert!(worst_bar_error(&wrong_matrix, 640, 360) > 12);
    // Limited-range samples marked full range: washed out.
    let colour = ColourInfo {
        full_range: true,
        matrix: MatrixCoefficients::Bt601,
    };
    let yuv = BARS_75.map(|rgb| rgb_to_yuv(rgb, BT601.0, BT601.1, false));
    let washed = encode_jpeg(&bars_picture(640, 480, &yuv, colour), 85).unwrap();
    assert!(worst_bar_error(&washed, 640, 480) > 12);
}
