//! Composes one demo picture: the current slide, its typing progress, a
//! running clock and the mouse pointer, all as a pure function of the frame
//! number (so the output is deterministic and frames can be re-rendered).

use crate::deck::{Slide, DECK};
use crate::picture::Picture;
use crate::pointer::{draw_pointer, tip_position};
use crate::text::{draw_text, text_width, GLYPH};

/// Typed slides finish typing at this fraction of their time on screen.
const TYPING_SHARE: f64 = 0.75;

/// What a frame shows, before drawing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameLayout {
    pub slide_index: usize,
    /// Body characters visible (all of them on slides that are not typed).
    pub visible_chars: usize,
    /// Media time of the frame in seconds.
    pub time: f64,
}

/// Sizes that scale with the picture height.
#[derive(Debug, Clone, Copy)]
struct Metrics {
    body_scale: i64,
    title_scale: i64,
    footer_scale: i64,
    pointer_scale: i64,
    margin: i64,
}

impl Metrics {
    fn for_height(height: usize) -> Metrics {
        // Even scales keep glyph pixels on the 2x2 chroma grid.
        let body_scale = 2 * (height as i64 / 360).max(1);
        Metrics {
            body_scale,
            title_scale: body_scale * 2,
            footer_scale: (body_scale / 2).max(2),
            pointer_scale: (body_scale / 2).max(2),
            margin: body_scale * 6,
        }
    }
}

/// Draws the demo's frames into one reused picture.
pub struct SlideRenderer {
    picture: Picture,
    fps: u32,
    frames_per_slide: u64,
    metrics: Metrics,
}

impl SlideRenderer {
    pub fn new(width: usize, height: usize, fps: u32, frames_per_slide: u64) -> SlideRenderer {
        SlideRenderer {
            picture: Picture::new(width, height),
            fps,
            frames_per_slide: frames_per_slide.max(1),
            metrics: Metrics::for_height(height),
        }
    }

    /// Which slide, how much typed text and what time frame `n` shows.
    pub fn layout(&self, n: u64) -> FrameLayout {
        let slide_number = n / self.frames_per_slide;
        let slide_index = (slide_number % DECK.len() as u64) as usize;
        let slide = &DECK[slide_index];
        let frame_in_slide = n % self.frames_per_slide;
        let visible_chars = if slide.typed {
            let progress = frame_in_slide as f64 / (TYPING_SHARE * self.frames_per_slide as f64);
            ((progress * slide.body_chars() as f64) as usize).min(slide.body_chars())
        } else {
            slide.body_chars()
        };
        FrameLayout {
            slide_index,
            visible_chars,
            time: n as f64 / self.fps as f64,
        }
    }

    /// Renders frame `n` and returns the picture.
    pub fn render(&mut self, n: u64) -> &Picture {
        let layout = self.layout(n);
        let slide = &DECK[layout.slide_index];
        self.draw_slide(slide, layout.visible_chars);
        self.draw_footer(&layout, n);
        let (w, h) = (self.picture.width(), self.picture.height());
        let (x, y) = tip_position(layout.time, w, h);
        draw_pointer(&mut self.picture, x, y, self.metrics.pointer_scale);
        &self.picture
    }

    fn draw_slide(&mut self, slide: &Slide, visible_chars: usize) {
        let m = self.metrics;
        let pic = &mut self.picture;
        pic.fill(slide.background.to_yuv());
        let band = GLYPH * m.title_scale + 2 * m.margin;
        pic.fill_rect(0, 0, pic.width() as i64, band, slide.accent.to_yuv());
        draw_text(
            pic,
            2 * m.margin,
            m.margin,
            slide.title,
            m.title_scale,
            slide.title_colour.to_yuv(),
        );

        let pitch = GLYPH * m.body_scale * 3 / 2;
        let top = band + 2 * m.margin;
        let colour = slide.body_colour.to_yuv();
        let mut budget = visible_chars;
        for (i, line) in slide.body.iter().enumerate() {
            let shown: String = line.chars().take(budget).collect();
            let y = top + i as i64 * pitch;
            let width = draw_text(pic, 2 * m.margin, y, &shown, m.body_scale, colour);
            let line_len = line.chars().count();
            if budget < line_len {
                // The typing cursor sits after the last typed character.
                let cursor_x = 2 * m.margin + width;
                pic.fill_rect(
                    cursor_x,
                    y,
                    GLYPH * m.body_scale / 2,
                    GLYPH * m.body_scale,
                    colour,
                );
                break;
            }
            budget -= line_len;
        }
    }

    fn draw_footer(&mut self, layout: &FrameLayout, n: u64) {
        let m = self.metrics;
        let slide = &DECK[layout.slide_index];
        let total_secs = n / self.fps as u64;
        let clock = format!(
            "slide {}/{}  {:02}:{:02}:{:02}.{:02}",
            layout.slide_index + 1,
            DECK.len(),
            total_secs / 3600,
            total_secs / 60 % 60,
            total_secs % 60,
            n % self.fps as u64,
        );
        let pic = &mut self.picture;
        let y = pic.height() as i64 - GLYPH * m.footer_scale - m.margin;
        let x = pic.width() as i64 - 2 * m.margin - text_width(clock.len(), m.footer_scale);
        draw_text(
            pic,
            x,
            y,
            &clock,
            m.footer_scale,
            slide.body_colour.to_yuv(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed_fraction(a: &Picture, b: &Picture) -> f64 {
        let changed = a
            .luma()
            .iter()
            .zip(b.luma())
            .filter(|(x, y)| x != y)
            .count();
        changed as f64 / a.luma().len() as f64
    }

    #[test]
    fn slides_advance_and_repeat() {
        let r = SlideRenderer::new(640, 360, 30, 120);
        assert_eq!(r.layout(0).slide_index, 0);
        assert_eq!(r.layout(119).slide_index, 0);
        assert_eq!(r.layout(120).slide_index, 1);
        assert_eq!(r.layout(120 * DECK.len() as u64).slide_index, 0);
        assert_eq!(r.layout(45).time, 1.5);
    }

    #[test]
    fn typed_slides_reveal_text_gradually_then_completely() {
        let r = SlideRenderer::new(640, 360, 30, 120);
        let typed = DECK.iter().position(|s| s.typed).expect("a typed slide") as u64;
        let first = typed * 120;
        let total = DECK[typed as usize].body_chars();
        assert_eq!(r.layout(first).visible_chars, 0);
        let mid = r.layout(first + 45).visible_chars;
        assert!(mid > 0 && mid < total, "half-typed: {mid} of {total}");
        assert!(r.layout(first + 30).visible_chars <= mid, "never untypes");
        assert_eq!(r.layout(first + 119).visible_chars, total);
        let plain = DECK.iter().position(|s| !s.typed).expect("a plain slide") as u64;
        assert_eq!(
            r.layout(plain * 120).visible_chars,
            DECK[plain as usize].body_chars()
        );
    }

    #[test]
    fn neighbouring_frames_differ_slightly_and_slide_switches_a_lot() {
        let mut r = SlideRenderer::new(1280, 720, 30, 120);
        let typed_start = DECK.iter().position(|s| s.typed).expect("a typed slide") as u64 * 120;
        for n in [10, typed_start + 20, typed_start + 21] {
            let prev = r.render(n - 1).clone();
            let cur = r.render(n);
            let f = changed_fraction(&prev, cur);
            assert!(f > 0.0 && f < 0.02, "frame {n}: {:.4} of pixels changed", f);
        }
        let before = r.render(119).clone();
        let after = r.render(120);
        assert!(changed_fraction(&before, after) > 0.5);
    }

    #[test]
    fn rendering_is_deterministic() {
        let mut r = SlideRenderer::new(320, 180, 30, 60);
        let a = r.render(77).clone();
        r.render(3);
        assert_eq!(&a, r.render(77));
    }
}
