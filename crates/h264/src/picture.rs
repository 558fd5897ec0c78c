//! A decoded picture that owns its planes.

use crate::colour::ColourInfo;
use openh264::formats::YUVSource;

/// One decoded picture, YUV 4:2:0 8-bit, in display order.
///
/// The planes are owned copies packed without padding (`y_stride == width`,
/// `uv_stride == (width + 1) / 2`), so a picture can be sent to other
/// threads and outlive the decoder. Samples are limited range (16..235)
/// BT.601/BT.709 unless [`Picture::colour`] says otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// Presentation time, 90 kHz, from the access unit it was coded in.
    pub pts: i64,
    pub width: usize,
    pub height: usize,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
    pub y_stride: usize,
    pub uv_stride: usize,
    /// Range and matrix signalled by the stream's SPS.
    pub colour: ColourInfo,
}

impl Picture {
    /// Width and height of the chroma planes.
    pub fn chroma_size(&self) -> (usize, usize) {
        (self.width.div_ceil(2), self.height.div_ceil(2))
    }

    /// Copies openh264's padded planes. `None` when the library reports planes
    /// smaller than its own dimensions claim (never seen; guards the copy).
    pub(crate) fn copy_from(src: &impl YUVSource, pts: i64, colour: ColourInfo) -> Option<Picture> {
        let (width, height) = src.dimensions();
        let (y_src_stride, u_src_stride, v_src_stride) = src.strides();
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        Some(Picture {
            pts,
            width,
            height,
            y: copy_plane(src.y(), y_src_stride, width, height)?,
            u: copy_plane(src.u(), u_src_stride, cw, ch)?,
            v: copy_plane(src.v(), v_src_stride, cw, ch)?,
            y_stride: width,
            uv_stride: cw,
            colour,
        })
    }
}

fn copy_plane(src: &[u8], stride: usize, width: usize, height: usize) -> Option<Vec<u8>> {
    if width == 0 || height == 0 || stride < width {
        return None;
    }
    let needed = stride.checked_mul(height - 1)?.checked_add(width)?;
    let src = src.get(..needed)?;
    let mut out = Vec::with_capacity(width * height);
    for row in src.chunks(stride) {
        out.extend_from_slice(&row[..width]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_plane_drops_stride_padding_and_checks_bounds() {
        let src = [1, 2, 0, 3, 4, 0, 5, 6];
        assert_eq!(copy_plane(&src, 3, 2, 3), Some(vec![1, 2, 3, 4, 5, 6]));
        assert_eq!(copy_plane(&src, 3, 2, 4), None);
        assert_eq!(copy_plane(&src, 1, 2, 2), None);
    }
}
