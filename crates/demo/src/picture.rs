//! An I420 (YUV 4:2:0, 8-bit) picture and the only drawing primitive the
//! demo needs: filling a clipped rectangle with one colour.

use crate::colour::Yuv;

/// A tightly packed I420 picture with even width and height.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    width: usize,
    height: usize,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
}

impl Picture {
    /// A black picture. Callers guarantee even, non-zero sizes
    /// (`DemoOptions::validate`).
    pub fn new(width: usize, height: usize) -> Picture {
        let chroma = (width / 2) * (height / 2);
        Picture {
            width,
            height,
            y: vec![16; width * height],
            u: vec![128; chroma],
            v: vec![128; chroma],
        }
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    #[cfg(test)]
    pub fn luma(&self) -> &[u8] {
        &self.y
    }

    pub fn fill(&mut self, c: Yuv) {
        self.y.fill(c.y);
        self.u.fill(c.u);
        self.v.fill(c.v);
    }

    /// Fills `w` x `h` pixels at (`x`, `y`), clipped to the picture. Chroma
    /// covers every 2x2 block the rectangle touches, so shapes drawn on the
    /// even grid keep exact colours.
    pub fn fill_rect(&mut self, x: i64, y: i64, w: i64, h: i64, c: Yuv) {
        let x0 = x.clamp(0, self.width as i64) as usize;
        let y0 = y.clamp(0, self.height as i64) as usize;
        let x1 = (x.saturating_add(w)).clamp(0, self.width as i64) as usize;
        let y1 = (y.saturating_add(h)).clamp(0, self.height as i64) as usize;
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        for row in self.y.chunks_exact_mut(self.width).skip(y0).take(y1 - y0) {
            row[x0..x1].fill(c.y);
        }
        let (cw, cx0, cx1) = (self.width / 2, x0 / 2, x1.div_ceil(2));
        let (cy0, cy1) = (y0 / 2, y1.div_ceil(2));
        for plane in [(&mut self.u, c.u), (&mut self.v, c.v)] {
            for row in plane.0.chunks_exact_mut(cw).skip(cy0).take(cy1 - cy0) {
                row[cx0..cx1].fill(plane.1);
            }
        }
    }
}

impl openh264::formats::YUVSource for Picture {
    fn dimensions(&self) -> (usize, usize) {
        (self.width, self.height)
    }

    fn strides(&self) -> (usize, usize, usize) {
        (self.width, self.width / 2, self.width / 2)
    }

    fn y(&self) -> &[u8] {
        &self.y
    }

    fn u(&self) -> &[u8] {
        &self.u
    }

    fn v(&self) -> &[u8] {
        &self.v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::colour::Rgb;
    use openh264::formats::YUVSource;

    #[test]
    fn fill_rect_clips_and_covers_touched_chroma_blocks() {
        let mut p = Picture::new(8, 4);
        let red = Rgb(255, 0, 0).to_yuv();
        p.fill_rect(6, -2, 10, 3, red);
        // Luma: columns 6..8, rows 0..1 only.
        let painted: Vec<usize> = (0..32).filter(|&i| p.y()[i] == red.y).collect();
        assert_eq!(painted, vec![6, 7]);
        // Chroma 4x2: block (3, 0) only.
        assert_eq!(p.u(), &[128, 128, 128, red.u, 128, 128, 128, 128]);
        assert_eq!(p.v()[3], red.v);
    }

    #[test]
    fn fully_outside_rect_changes_nothing() {
        let mut p = Picture::new(8, 4);
        let before = p.clone();
        p.fill_rect(-20, 1, 5, 5, Rgb(1, 2, 3).to_yuv());
        p.fill_rect(2, 1, 0, 5, Rgb(1, 2, 3).to_yuv());
        assert_eq!(p, before);
    }
}
