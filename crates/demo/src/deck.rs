//! The slide deck the demo presents: titles, bullet text and colours.
//!
//! Neighbouring slides alternate dark and light backgrounds so every switch
//! is an unmistakable scene cut, while everything that moves within a slide
//! (pointer, typing, clock) touches only a small area.

use crate::colour::Rgb;

/// One slide's content and look.
#[derive(Debug, Clone, Copy)]
pub struct Slide {
    pub title: &'static str,
    pub body: &'static [&'static str],
    pub background: Rgb,
    /// Colour of the title band.
    pub accent: Rgb,
    pub title_colour: Rgb,
    pub body_colour: Rgb,
    /// Body text appears character by character instead of all at once.
    pub typed: bool,
}

/// The deck, shown in order and repeated.
pub const DECK: [Slide; 6] = [
    Slide {
        title: "cht live demo",
        body: &[
            "- a screen share, made in-process",
            "- H.264 + AAC in MPEG-TS over TCP",
            "- no ffmpeg, no camera, no network",
            "- slides switch every few seconds",
        ],
        background: Rgb(16, 32, 80),
        accent: Rgb(240, 180, 40),
        title_colour: Rgb(16, 32, 80),
        body_colour: Rgb(235, 235, 245),
        typed: false,
    },
    Slide {
        title: "Recording",
        body: &[
            "- every access unit goes to disk",
            "- segments are fragmented MP4",
            "- a segment starts on a keyframe",
            "- lagging analysis skips nothing",
        ],
        background: Rgb(250, 244, 225),
        accent: Rgb(200, 60, 50),
        title_colour: Rgb(255, 255, 255),
        body_colour: Rgb(40, 40, 40),
        typed: true,
    },
    Slide {
        title: "Scene detection",
        body: &[
            "- each slide switch is a cut",
            "- cuts become JPEG frames",
            "- the pointer and the typing",
            "  are small changes, not cuts",
        ],
        background: Rgb(12, 70, 48),
        accent: Rgb(120, 220, 160),
        title_colour: Rgb(12, 50, 30),
        body_colour: Rgb(230, 245, 235),
        typed: false,
    },
    Slide {
        title: "Audio chunks",
        body: &[
            "- AAC frames are decoded to PCM",
            "- and cut into WAV chunks,",
            "  at quiet moments if possible",
        ],
        background: Rgb(248, 248, 252),
        accent: Rgb(60, 90, 200),
        title_colour: Rgb(255, 255, 255),
        body_colour: Rgb(30, 30, 60),
        typed: true,
    },
    Slide {
        title: "Timestamps",
        body: &[
            "- one 90 kHz clock per segment",
            "- audio keeps its offset to video",
            "- PTS unwrapping shared by tracks",
        ],
        background: Rgb(96, 20, 40),
        accent: Rgb(250, 220, 120),
        title_colour: Rgb(96, 20, 40),
        body_colour: Rgb(250, 235, 235),
        typed: false,
    },
    Slide {
        title: "Your turn",
        body: &[
            "- point a real sender at cht:",
            "  ffmpeg ... -f mpegts tcp://",
            "- or keep watching this demo",
        ],
        background: Rgb(205, 228, 250),
        accent: Rgb(20, 110, 140),
        title_colour: Rgb(255, 255, 255),
        body_colour: Rgb(10, 40, 70),
        typed: true,
    },
];

impl Slide {
    /// Number of body characters, the length of the typing animation.
    pub fn body_chars(&self) -> usize {
        self.body.iter().map(|l| l.chars().count()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luma(c: Rgb) -> f64 {
        0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64
    }

    #[test]
    fn neighbouring_backgrounds_differ_strongly_in_brightness() {
        for (i, slide) in DECK.iter().enumerate() {
            let next = &DECK[(i + 1) % DECK.len()];
            let gap = (luma(slide.background) - luma(next.background)).abs();
            assert!(gap > 100.0, "slides {i} and next differ by only {gap:.0}");
        }
    }

    #[test]
    fn text_is_ascii_and_some_slides_are_typed() {
        assert!(DECK
            .iter()
            .all(|s| s.title.is_ascii() && s.body.iter().all(|l| l.is_ascii())));
        assert!(DECK.iter().any(|s| s.typed) && DECK.iter().any(|s| !s.typed));
        assert!(DECK.iter().all(|s| s.body_chars() > 0));
    }
}
