//! Synthetic luma planes that the scene benchmarks and speed examples share,
//! so that their figures are measured on the same content.
//!
//! Not for detection tests: the labelled corpus of real programs
//! (`cargo xtask eval-scenes`) and the behaviour tests build their own.

/// The frame sizes the benchmarks report: 720p, 1080p and 4K.
pub const SIZES: [(&str, usize, usize); 3] = [
    ("720p", 1280, 720),
    ("1080p", 1920, 1080),
    ("4k", 3840, 2160),
];

/// A screen-like picture: gradients, rows of "text" strokes and sensor-ish
/// noise, moved `t` steps to the right; not a flat field that SIMD loves.
/// Rows are padded like a decoder's (1984 for 1920). Returns the pixels and
/// the stride.
pub fn screen_frame(width: usize, height: usize, t: usize) -> (Vec<u8>, usize) {
    let stride = width + 64;
    let mut data = vec![0u8; stride * height];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ t as u64;
    for y in 0..height {
        for x in 0..width {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let xs = x + t * 3;
            let gradient = (xs * 160 / width + y * 60 / height) as i32;
            let text = if (y % 24) < 14 && (xs % 11) < 3 && !(xs / 200 + y / 24).is_multiple_of(3) {
                90
            } else {
                0
            };
            let noise = (seed & 7) as i32 - 4;
            data[y * stride + x] = (30 + gradient + text + noise).clamp(0, 255) as u8;
        }
    }
    (data, stride)
}
