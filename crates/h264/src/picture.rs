//! openh264's borrowed pictures, copied into owned [`Picture`]s.

use cht_core::{ColourInfo, Picture};
use openh264::formats::YUVSource;

/// Copies openh264's padded planes. `None` when the library reports planes
/// smaller than its own dimensions claim (never seen; guards the copy).
pub(crate) fn copy_picture(src: &impl YUVSource, pts: i64, colour: ColourInfo) -> Option<Picture> {
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
