//! Text drawn with the public-domain 8x8 bitmap font (`font8x8`), scaled up
//! by whole pixels. No system fonts, no anti-aliasing: the demo only needs
//! legible, deterministic pixels.

use font8x8::legacy::BASIC_LEGACY;

use crate::colour::Yuv;
use crate::picture::Picture;

/// Glyph cell size of the font, in font pixels.
pub const GLYPH: i64 = 8;

/// The 8 rows of a character's bitmap (bit 0 = leftmost pixel). Characters
/// outside ASCII are drawn as `?`.
fn glyph(c: char) -> [u8; 8] {
    let index = if c.is_ascii() {
        c as usize
    } else {
        '?' as usize
    };
    BASIC_LEGACY[index]
}

/// Draws `text` with its top-left corner at (`x`, `y`), each font pixel
/// `scale` x `scale` picture pixels. Returns the drawn width in pixels.
pub fn draw_text(pic: &mut Picture, x: i64, y: i64, text: &str, scale: i64, colour: Yuv) -> i64 {
    let advance = GLYPH * scale;
    let mut pen = x;
    for c in text.chars() {
        draw_glyph(pic, pen, y, glyph(c), scale, colour);
        pen += advance;
    }
    pen - x
}

/// Width in pixels of `chars` characters at `scale`.
pub fn text_width(chars: usize, scale: i64) -> i64 {
    chars as i64 * GLYPH * scale
}

fn draw_glyph(pic: &mut Picture, x: i64, y: i64, rows: [u8; 8], scale: i64, colour: Yuv) {
    for (row, bits) in rows.iter().enumerate() {
        let top = y + row as i64 * scale;
        // One rectangle per run of set bits keeps the fill count low.
        let mut col = 0;
        while col < 8 {
            if bits & (1 << col) == 0 {
                col += 1;
                continue;
            }
            let start = col;
            while col < 8 && bits & (1 << col) != 0 {
                col += 1;
            }
            let left = x + start as i64 * scale;
            pic.fill_rect(left, top, (col - start) as i64 * scale, scale, colour);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::colour::Rgb;

    #[test]
    fn draws_the_font_bitmap_scaled() {
        let mut p = Picture::new(32, 16);
        let white = Rgb(255, 255, 255).to_yuv();
        let w = draw_text(&mut p, 0, 0, "I", 2, white);
        assert_eq!(w, 16);
        // Every lit picture pixel maps back to a set font bit.
        let rows = glyph('I');
        for py in 0..16 {
            for px in 0..16 {
                let lit = p.luma()[py * 32 + px] == white.y;
                let bit = rows[py / 2] & (1 << (px / 2)) != 0;
                assert_eq!(lit, bit, "pixel ({px},{py})");
            }
        }
        // Nothing right of the glyph cell.
        assert!((0..16).all(|py| p.luma()[py * 32 + 16..py * 32 + 32]
            .iter()
            .all(|&y| y == 16)));
    }

    #[test]
    fn spaces_draw_nothing_and_non_ascii_draws_a_question_mark() {
        let mut p = Picture::new(16, 8);
        let before = p.clone();
        draw_text(&mut p, 0, 0, "  ", 1, Rgb(255, 255, 255).to_yuv());
        assert_eq!(p, before);
        draw_text(&mut p, 0, 0, "é", 1, Rgb(255, 255, 255).to_yuv());
        assert_ne!(p, before);
        assert_eq!(glyph('é'), glyph('?'));
    }
}
