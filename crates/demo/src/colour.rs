//! sRGB colours and their limited-range BT.709 YCbCr equivalents.

/// An 8-bit sRGB colour, as a designer would pick it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// A limited-range (16..=235 luma, 16..=240 chroma) BT.709 YCbCr triple,
/// which is what the encoder's VUI tells decoders to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Yuv {
    pub y: u8,
    pub u: u8,
    pub v: u8,
}

impl Rgb {
    pub fn to_yuv(self) -> Yuv {
        let (r, g, b) = (self.0 as f32, self.1 as f32, self.2 as f32);
        let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        // Scale 0..255 into the studio ranges.
        let luma = 16.0 + y * (219.0 / 255.0);
        let cb = 128.0 + (b - y) / 1.8556 * (224.0 / 255.0);
        let cr = 128.0 + (r - y) / 1.5748 * (224.0 / 255.0);
        Yuv {
            y: to_u8(luma),
            u: to_u8(cb),
            v: to_u8(cr),
        }
    }
}

fn to_u8(v: f32) -> u8 {
    v.round().clamp(0.0, 255.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn black_white_and_red_map_to_studio_range() {
        assert_eq!(
            Rgb(0, 0, 0).to_yuv(),
            Yuv {
                y: 16,
                u: 128,
                v: 128
            }
        );
        assert_eq!(
            Rgb(255, 255, 255).to_yuv(),
            Yuv {
                y: 235,
                u: 128,
                v: 128
            }
        );
        // BT.709 red: Y 63, Cb 102, Cr 240 (ITU-R BT.709 colour bars).
        assert_eq!(
            Rgb(255, 0, 0).to_yuv(),
            Yuv {
                y: 63,
                u: 102,
                v: 240
            }
        );
    }
}
