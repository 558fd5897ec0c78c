//! The mouse pointer: a classic arrow sprite gliding along a smooth path,
//! the small, continuous motion that a scene detector must not call a cut.

use crate::colour::{Rgb, Yuv};
use crate::picture::Picture;

/// The arrow, tip at the top-left: `#` outline, `o` fill, `.` transparent.
const ARROW: [&str; 17] = [
    "#...........",
    "##..........",
    "#o#.........",
    "#oo#........",
    "#ooo#.......",
    "#oooo#......",
    "#ooooo#.....",
    "#oooooo#....",
    "#ooooooo#...",
    "#oooooooo#..",
    "#oooooooooo#",
    "#ooo#oo#####",
    "#oo#.#oo#...",
    "#o#..#oo#...",
    "##....#oo#..",
    "......#oo#..",
    ".......##...",
];

/// Where the pointer tip is at media time `t` seconds, for a picture of
/// `width` x `height`. A Lissajous curve: smooth, never leaves the picture,
/// and does not repeat for 35 s.
pub fn tip_position(t: f64, width: usize, height: usize) -> (i64, i64) {
    use std::f64::consts::TAU;
    let (w, h) = (width as f64, height as f64);
    let x = w * (0.5 + 0.35 * (TAU * t / 7.0).sin());
    let y = h * (0.55 + 0.3 * (TAU * t / 5.0 + 0.6).sin());
    // Even coordinates keep the sprite on the 2x2 chroma grid.
    ((x as i64) & !1, (y as i64) & !1)
}

/// Draws the arrow with its tip at (`x`, `y`), each sprite pixel
/// `scale` x `scale` picture pixels.
pub fn draw_pointer(pic: &mut Picture, x: i64, y: i64, scale: i64) {
    let outline = Rgb(0, 0, 0).to_yuv();
    let fill = Rgb(255, 255, 255).to_yuv();
    for (row, line) in ARROW.iter().enumerate() {
        for (col, cell) in line.bytes().enumerate() {
            let colour: Yuv = match cell {
                b'#' => outline,
                b'o' => fill,
                _ => continue,
            };
            pic.fill_rect(
                x + col as i64 * scale,
                y + row as i64 * scale,
                scale,
                scale,
                colour,
            );
        }
    }
}

/// Sprite size in sprite pixels (width, height).
#[cfg(test)]
pub fn sprite_size() -> (i64, i64) {
    (ARROW[0].len() as i64, ARROW.len() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_stays_inside_and_moves_a_few_pixels_per_frame() {
        let (w, h) = (1280, 720);
        let mut prev = tip_position(0.0, w, h);
        for n in 1..(35 * 30) {
            let p = tip_position(n as f64 / 30.0, w, h);
            assert!((0..w as i64).contains(&p.0) && (0..h as i64).contains(&p.1));
            let step = (p.0 - prev.0).abs().max((p.1 - prev.1).abs());
            assert!(step <= 24, "jump of {step} px at frame {n}");
            prev = p;
        }
    }

    #[test]
    fn draws_outline_and_fill_only_inside_the_sprite() {
        let mut pic = Picture::new(64, 64);
        draw_pointer(&mut pic, 10, 20, 2);
        let (sw, sh) = sprite_size();
        let luma = pic.luma();
        let lit = |x: usize, y: usize| luma[y * 64 + x] != 16;
        assert!(lit(10 + 2, 20 + 5), "fill inside the arrow");
        assert!(
            !lit(9, 20) && !lit(10 + sw as usize * 2, 20),
            "nothing outside"
        );
        assert!(!lit(10, 20 + sh as usize * 2));
        assert_eq!(luma[(20 + 4) * 64 + 10 + 2], 235, "white fill");
    }
}
