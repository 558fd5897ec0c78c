//! The default detector on synthetic screen content: what must be a cut and
//! what must not, plus the API's contracts (errors, first frames, modes).

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use cht_scene::{Detector, LumaPlane, SceneDetector, SceneError, Verdict};

const W: usize = 1280;
const H: usize = 720;
const BACKGROUND: u8 = 245;
const INK: u8 = 30;

/// A tiny deterministic generator, so that "text" differs between slides.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A 1280x720 screen: light background, a title bar, lines of "text".
#[derive(Clone)]
struct Screen(Vec<u8>);

impl Screen {
    fn blank() -> Screen {
        let mut s = Screen(vec![BACKGROUND; W * H]);
        s.fill(0, 0, W, 70, 50);
        s
    }

    /// A slide whose title and `lines` body lines come from `seed`.
    fn slide(seed: u64, lines: usize) -> Screen {
        let mut s = Screen::blank();
        let mut rng = Rng(seed | 1);
        s.text_line(&mut rng, 40, 20, 30, 230);
        for l in 0..lines {
            s.text_line(&mut rng, 80, 110 + l * 48, 70, INK);
        }
        s
    }

    fn fill(&mut self, x: usize, y: usize, w: usize, h: usize, v: u8) {
        for row in y..(y + h).min(H) {
            let end = (x + w).min(W);
            self.0[row * W + x.min(end)..row * W + end].fill(v);
        }
    }

    /// `chars` glyphs of 12x20 cells, each a few random strokes.
    fn text_line(&mut self, rng: &mut Rng, x: usize, y: usize, chars: usize, ink: u8) {
        for c in 0..chars {
            let cx = x + c * 13;
            if rng.next().is_multiple_of(7) {
                continue; // a space
            }
            for _ in 0..3 {
                let r = rng.next();
                if r.is_multiple_of(2) {
                    self.fill(cx + (r >> 8) as usize % 10, y, 2, 18, ink);
                } else {
                    self.fill(cx, y + (r >> 8) as usize % 17, 11, 2, ink);
                }
            }
        }
    }

    fn plane(&self) -> LumaPlane<'_> {
        LumaPlane::packed(&self.0, W, H).unwrap()
    }
}

fn detector() -> SceneDetector {
    SceneDetector::new(Detector::Default, SceneDetector::DEFAULT_THRESHOLD).unwrap()
}

/// Pushes every frame; returns the indices judged cuts, and all verdicts.
fn run(frames: &[Screen]) -> (Vec<u64>, Vec<Verdict>) {
    let mut d = detector();
    let scores: Vec<_> = frames.iter().map(|f| d.push(&f.plane()).unwrap()).collect();
    (
        scores
            .iter()
            .filter(|s| s.is_cut)
            .map(|s| s.index)
            .collect(),
        scores.iter().map(|s| s.verdict).collect(),
    )
}

fn hold(frame: &Screen, n: usize) -> Vec<Screen> {
    vec![frame.clone(); n]
}

#[test]
fn a_slide_switch_that_only_changes_text_is_a_cut() {
    let (a, b) = (Screen::slide(1, 8), Screen::slide(2, 8));
    let mut frames = hold(&a, 20);
    frames.extend(hold(&b, 20));
    let mut d = detector();
    let scores: Vec<_> = frames.iter().map(|f| d.push(&f.plane()).unwrap()).collect();
    let switch = &scores[20];
    let m = switch.measures.unwrap();
    // The premise: little changes globally, yet many blocks change strongly.
    assert!(m.mafd < 20.0 && m.histogram_distance < 0.1, "{m:?}");
    assert!(m.strong_blocks > 0.1, "{m:?}");
    assert!(switch.is_cut, "{switch:?}");
    assert_eq!(scores.iter().filter(|s| s.is_cut).count(), 1);
}

#[test]
fn a_moving_cursor_is_not_a_cut() {
    let slide = Screen::slide(3, 8);
    let frames: Vec<Screen> = (0..60)
        .map(|i| {
            let mut f = slide.clone();
            f.fill(100 + i * 17, 200 + (i * 7) % 300, 12, 18, 0);
            f
        })
        .collect();
    assert_eq!(run(&frames).0, Vec::<u64>::new());
}

#[test]
fn a_line_of_text_appearing_is_not_a_cut() {
    let mut frames = Vec::new();
    let mut screen = Screen::slide(4, 0);
    let mut rng = Rng(99);
    for line in 0..10 {
        screen.text_line(&mut rng, 80, 110 + line * 48, 70, INK);
        frames.extend(hold(&screen, 10));
    }
    assert_eq!(run(&frames).0, Vec::<u64>::new());
}

#[test]
fn a_fade_to_black_is_not_a_cut() {
    let slide = Screen::slide(5, 8);
    let mut frames = hold(&slide, 10);
    for step in 1..=15u32 {
        let f: Vec<u8> = slide
            .0
            .iter()
            .map(|&v| (v as u32 * (15 - step) / 15) as u8)
            .collect();
        frames.push(Screen(f));
    }
    frames.extend(hold(&Screen(vec![0; W * H]), 10));
    let (cuts, verdicts) = run(&frames);
    assert_eq!(cuts, Vec::<u64>::new(), "{verdicts:?}");
}

#[test]
fn scrolling_is_not_a_cut_but_a_new_page_is() {
    // A tall page scrolled by wheel steps of 60 rows every 10 frames.
    let mut page = vec![BACKGROUND; W * H * 3];
    let mut rng = Rng(7);
    let mut tall = Screen(Vec::new());
    std::mem::swap(&mut tall.0, &mut page);
    for l in 0..(3 * H / 40) {
        let y = 10 + l * 40;
        let chars = 40 + (rng.next() % 40) as usize;
        for c in 0..chars {
            let r = rng.next();
            let (x, dy) = (60 + c * 13 + (r % 10) as usize, (r >> 8) as usize % 17);
            for row in y + dy..y + dy + 2 {
                tall.0[row * W + x..row * W + x + 9].fill(INK);
            }
        }
    }
    let view = |top: usize| Screen(tall.0[top * W..(top + H) * W].to_vec());
    let mut frames = Vec::new();
    for step in 0..12 {
        frames.extend(hold(&view(step * 60), 10));
    }
    frames.extend(hold(&Screen::slide(8, 8), 10));
    let (cuts, verdicts) = run(&frames);
    assert_eq!(cuts, vec![120], "{verdicts:?}");
    assert!(
        verdicts.iter().filter(|&&v| v == Verdict::Scroll).count() >= 5,
        "{verdicts:?}"
    );
}

#[test]
fn a_cut_between_unrelated_pictures_is_found() {
    let noisy = |seed: u64, base: u8| {
        let mut rng = Rng(seed);
        Screen(
            (0..W * H)
                .map(|_| base.wrapping_add((rng.next() % 40) as u8))
                .collect(),
        )
    };
    let mut frames = hold(&Screen::slide(9, 8), 10);
    frames.extend(hold(&noisy(1, 60), 10));
    frames.extend(hold(&noisy(2, 170), 10));
    assert_eq!(run(&frames).0, vec![10, 20]);
}

#[test]
fn a_bigger_change_right_after_a_cut_is_too_soon() {
    // A flash-like sequence: a slide switch, then 3 frames later a far
    // bigger change; only the first is reported.
    let mut frames = hold(&Screen::slide(1, 8), 10);
    frames.extend(hold(&Screen::slide(2, 8), 3));
    frames.extend(hold(&Screen(vec![0; W * H]), 10));
    let (cuts, verdicts) = run(&frames);
    assert_eq!(cuts, vec![10]);
    assert_eq!(verdicts[13], Verdict::TooSoon);
}

#[test]
fn first_frames_and_size_changes_are_not_cuts() {
    let mut d = detector();
    let small = vec![10u8; 64 * 48];
    let first = d.push(&Screen::slide(1, 8).plane()).unwrap();
    assert_eq!(
        (first.verdict, first.score, first.index),
        (Verdict::FirstFrame, 0.0, 0)
    );
    let resized = d.push(&LumaPlane::packed(&small, 64, 48).unwrap()).unwrap();
    assert_eq!(resized.verdict, Verdict::FirstFrame);
    let next = d.push(&LumaPlane::packed(&small, 64, 48).unwrap()).unwrap();
    assert_eq!((next.verdict, next.index), (Verdict::BelowThreshold, 2));
}

#[test]
fn bad_input_is_refused_and_leaves_the_state_alone() {
    let mut d = detector();
    let a = Screen::slide(1, 8);
    d.push(&a.plane()).unwrap();
    let short = LumaPlane {
        data: &a.0[..W * H - 1],
        width: W,
        height: H,
        stride: W,
    };
    assert!(matches!(d.push(&short), Err(SceneError::ShortPlane { .. })));
    let narrow = LumaPlane {
        data: &a.0,
        width: W,
        height: H,
        stride: W - 1,
    };
    assert!(matches!(
        d.push(&narrow),
        Err(SceneError::StrideTooSmall { .. })
    ));
    // The stored frame is still `a`: pushing it again scores nothing.
    let again = d.push(&a.plane()).unwrap();
    assert_eq!((again.verdict, again.score), (Verdict::BelowThreshold, 0.0));
    for t in [f64::NAN, -0.1, 1.5] {
        assert!(matches!(
            SceneDetector::new(Detector::Default, t),
            Err(SceneError::BadThreshold(_))
        ));
    }
}

#[test]
fn push_after_scores_like_push_and_survives_a_wrong_previous_frame() {
    let frames = [
        Screen::slide(1, 8),
        Screen::slide(1, 8),
        Screen::slide(2, 8),
        Screen::slide(3, 4),
    ];
    let mut pushed = detector();
    let mut paired = detector();
    pushed.push(&frames[0].plane()).unwrap();
    for i in 1..frames.len() {
        let a = pushed.push(&frames[i].plane()).unwrap();
        let b = paired
            .push_after(&frames[i - 1].plane(), &frames[i].plane())
            .unwrap();
        assert_eq!(
            (a.score, a.is_cut, a.measures),
            (b.score, b.is_cut, b.measures),
            "frame {i}"
        );
    }
    // Handing in some other "previous" frame still compares with that frame.
    let odd = paired
        .push_after(&frames[0].plane(), &frames[0].plane())
        .unwrap();
    assert_eq!(odd.measures.unwrap().mafd, 0.0);
}

#[test]
fn parallel_scanning_gives_the_same_scores() {
    let (w, h) = (2560, 1440);
    let mut rng = Rng(11);
    let a: Vec<u8> = (0..w * h).map(|_| (rng.next() % 200) as u8).collect();
    let b: Vec<u8> = a
        .iter()
        .enumerate()
        .map(|(i, &v)| if i % 3 == 0 { v / 2 } else { v })
        .collect();
    let score = |parallel: bool| {
        let mut d = detector().with_parallel(parallel);
        d.push(&LumaPlane::packed(&a, w, h).unwrap()).unwrap();
        d.push(&LumaPlane::packed(&b, w, h).unwrap()).unwrap()
    };
    let (serial, parallel) = (score(false), score(true));
    assert_eq!(
        (serial.score, serial.measures),
        (parallel.score, parallel.measures)
    );
    assert!(serial.measures.unwrap().mafd > 10.0);
}
