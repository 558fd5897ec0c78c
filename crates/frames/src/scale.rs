//! Smaller copies of written pictures (to save an agent's image tokens):
//! decode the JPEG, average it down, encode it again. Pure Rust.

use jpeg_decoder::{Decoder, PixelFormat};
use jpeg_encoder::{ColorType, Encoder};

use crate::error::FramesError;
use crate::jpeg::DEFAULT_QUALITY;

/// The narrowest picture asked for.
pub const MIN_WIDTH: u32 = 16;

/// `jpeg` scaled to `width` pixels wide (the height in proportion), as a
/// JPEG again. A picture already that narrow or narrower is returned as it
/// is. Each output pixel is the average of the input pixels it covers (a
/// box filter: no aliasing on text, unlike skipping pixels).
pub fn scale_jpeg(jpeg: &[u8], width: u32) -> Result<Vec<u8>, FramesError> {
    if width < MIN_WIDTH {
        return Err(FramesError::BadPicture(format!(
            "a width of {width} pixels is too small (at least {MIN_WIDTH})"
        )));
    }
    let mut decoder = Decoder::new(jpeg);
    let pixels = decoder
        .decode()
        .map_err(|e| FramesError::BadPicture(format!("the JPEG does not decode: {e}")))?;
    let info = decoder
        .info()
        .ok_or_else(|| FramesError::BadPicture("the JPEG has no header".into()))?;
    let (src_w, src_h) = (usize::from(info.width), usize::from(info.height));
    let (channels, color) = match info.pixel_format {
        PixelFormat::L8 => (1, ColorType::Luma),
        PixelFormat::RGB24 => (3, ColorType::Rgb),
        other => {
            return Err(FramesError::BadPicture(format!(
                "pictures in {other:?} are not scaled"
            )))
        }
    };
    let dst_w = width as usize;
    if dst_w >= src_w {
        return Ok(jpeg.to_vec());
    }
    let dst_h = (src_h * dst_w).div_ceil(src_w).max(1);
    let scaled = box_scale(&pixels, src_w, src_h, channels, dst_w, dst_h);
    let mut out = Vec::with_capacity(scaled.len() / 8);
    let size = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
    Encoder::new(&mut out, DEFAULT_QUALITY).encode(&scaled, size(dst_w), size(dst_h), color)?;
    Ok(out)
}

/// Averages `src` (`w`×`h`, `channels` bytes a pixel) down to `dw`×`dh`;
/// each output pixel covers a rectangle of whole input pixels.
fn box_scale(src: &[u8], w: usize, h: usize, channels: usize, dw: usize, dh: usize) -> Vec<u8> {
    let mut out = vec![0u8; dw * dh * channels];
    let mut sums = vec![0u32; dw * channels];
    let mut counts = vec![0u32; dw];
    let columns: Vec<(usize, usize)> = (0..dw).map(|x| span(x, w, dw)).collect();
    for y in 0..dh {
        let (y0, y1) = span(y, h, dh);
        sums.fill(0);
        counts.fill(0);
        for row in src.chunks_exact(w * channels).skip(y0).take(y1 - y0) {
            for (x, &(x0, x1)) in columns.iter().enumerate() {
                for pixel in row[x0 * channels..x1 * channels].chunks_exact(channels) {
                    for (c, &v) in pixel.iter().enumerate() {
                        sums[x * channels + c] += u32::from(v);
                    }
                }
                counts[x] += (x1 - x0) as u32;
            }
        }
        let line = &mut out[y * dw * channels..(y + 1) * dw * channels];
        for (i, value) in line.iter_mut().enumerate() {
            let n = counts[i / channels].max(1);
            *value = ((sums[i] + n / 2) / n) as u8;
        }
    }
    out
}

/// The input pixels `[start, end)` output pixel `i` of `n` covers, of `len`.
fn span(i: usize, len: usize, n: usize) -> (usize, usize) {
    let start = i * len / n;
    let end = ((i + 1) * len / n).max(start + 1).min(len);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gray_jpeg(w: u16, h: u16) -> Vec<u8> {
        // Left half black, right half white.
        let pixels: Vec<u8> = (0..usize::from(h))
            .flat_map(|_| {
                (0..usize::from(w)).map(move |x| if x < usize::from(w) / 2 { 0 } else { 255 })
            })
            .collect();
        let mut out = Vec::new();
        Encoder::new(&mut out, 95)
            .encode(&pixels, w, h, ColorType::Luma)
            .expect("encode");
        out
    }

    #[test]
    fn scales_to_the_width_asked_keeping_the_shape_and_the_content() {
        let jpeg = gray_jpeg(640, 360);
        let small = scale_jpeg(&jpeg, 160).expect("scaled");
        let mut decoder = Decoder::new(small.as_slice());
        let pixels = decoder.decode().expect("decodes");
        let info = decoder.info().expect("info");
        assert_eq!((info.width, info.height), (160, 90));
        let row = &pixels[45 * 160..46 * 160];
        assert!(
            row[10] < 20 && row[150] > 235,
            "halves kept: {} {}",
            row[10],
            row[150]
        );
        assert!(small.len() < jpeg.len());
        assert_eq!(
            scale_jpeg(&jpeg, 640).expect("same"),
            jpeg,
            "not wider than asked"
        );
        assert_eq!(scale_jpeg(&jpeg, 4000).expect("same"), jpeg);
        assert!(scale_jpeg(&jpeg, 8).is_err());
        assert!(scale_jpeg(b"not a jpeg", 100).is_err());
    }

    #[test]
    fn box_averages_cover_every_input_pixel() {
        let src: Vec<u8> = (0..9).map(|v| v * 10).collect(); // 3x3 gray
        assert_eq!(box_scale(&src, 3, 3, 1, 1, 1), vec![40]);
        assert_eq!(box_scale(&src, 3, 3, 1, 3, 3), src);
        assert_eq!(span(0, 5, 2), (0, 2));
        assert_eq!(span(1, 5, 2), (2, 5));
    }
}
