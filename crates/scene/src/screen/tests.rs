//! Behaviour of the screen-event detector on drawn screens.
//!
//! The screens here are simple drawings (text-like stripes on a page); the
//! real-program clips in `tests/fixtures/screen/` test the same classes end
//! to end through the decoder.

use super::*;
use crate::plane::OwnedLumaPlane;

const W: usize = 960;
const H: usize = 540;
const FPS: f64 = 30.0;

/// A drawing: background, then filled rectangles of "text" (a pattern
/// whose phase is `seed`, so two texts differ) or of a flat shade.
#[derive(Clone)]
struct Screen {
    background: u8,
    items: Vec<Item>,
}

#[derive(Clone, Copy)]
enum Item {
    Text {
        x: usize,
        y: usize,
        w: usize,
        h: usize,
        seed: usize,
    },
    Box {
        x: usize,
        y: usize,
        w: usize,
        h: usize,
        shade: u8,
    },
    Noise {
        x: usize,
        y: usize,
        w: usize,
        h: usize,
        seed: usize,
    },
}

impl Screen {
    fn page() -> Self {
        Screen {
            background: 235,
            items: Vec::new(),
        }
    }

    fn with(mut self, item: Item) -> Self {
        self.items.push(item);
        self
    }

    /// A slide: a title line and `bullets` lines of text, all from `seed`.
    fn slide(seed: usize, bullets: usize) -> Self {
        let mut s = Screen::page().with(Item::Text {
            x: 80,
            y: 40,
            w: 700,
            h: 40,
            seed,
        });
        for i in 0..bullets {
            s = s.with(Item::Text {
                x: 120,
                y: 130 + i * 50,
                w: 600,
                h: 22,
                seed: seed * 31 + i,
            });
        }
        s
    }

    fn render(&self, shift: usize) -> OwnedLumaPlane {
        let mut data = vec![self.background; W * H];
        for item in &self.items {
            match *item {
                Item::Text { x, y, w, h, seed } => {
                    for yy in y..(y + h).min(H) {
                        for xx in x..(x + w).min(W) {
                            let (gx, gy) = (xx / 9, (yy + shift) / 3);
                            if (gx * 2654435761 + gy * 40503 + seed * 9973) % 7 < 3 {
                                data[yy * W + xx] = 30;
                            }
                        }
                    }
                }
                Item::Box { x, y, w, h, shade } => {
                    for yy in y..(y + h).min(H) {
                        data[yy * W + x..yy * W + (x + w).min(W)].fill(shade);
                    }
                }
                Item::Noise { x, y, w, h, seed } => {
                    for yy in y..(y + h).min(H) {
                        for xx in x..(x + w).min(W) {
                            let v = (xx / 6 * 7919 + yy / 6 * 104729 + seed * 1299709) % 251;
                            data[yy * W + xx] = v as u8;
                        }
                    }
                }
            }
        }
        OwnedLumaPlane::from_packed(data, W, H).unwrap()
    }

    fn signature(&self) -> Arc<FrameSignature> {
        Arc::new(FrameSignature::of(&self.render(0).as_plane()).unwrap())
    }
}

/// Runs frames through a detector; returns every picture with the index of
/// the frame it was produced at.
fn run(frames: &[Arc<FrameSignature>]) -> Vec<(usize, ScreenPicture)> {
    let mut detector = ScreenEvents::new(ScreenOptions::default());
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let step = detector.push(f.clone(), i as f64 / FPS);
        out.extend(step.pictures.into_iter().map(|p| (i, p)));
    }
    out.extend(
        detector
            .finish()
            .pictures
            .into_iter()
            .map(|p| (frames.len(), p)),
    );
    out
}

fn events(pictures: &[(usize, ScreenPicture)]) -> Vec<ScreenPicture> {
    pictures
        .iter()
        .map(|p| p.1)
        .filter(|p| p.cause.is_event() && p.cause != Cause::Start)
        .collect()
}

fn hold(screen: &Screen, seconds: f64) -> Vec<Arc<FrameSignature>> {
    let sig = screen.signature();
    vec![sig; (seconds * FPS) as usize]
}

#[test]
fn first_picture_waits_for_the_screen_to_settle() {
    let frames = hold(&Screen::slide(1, 3), 2.0);
    let pictures = run(&frames);
    assert_eq!(pictures.len(), 1, "{pictures:?}");
    let p = pictures[0].1;
    assert_eq!(p.cause, Cause::Start);
    assert_eq!(p.event_time, 0.0);
    assert!((p.picture_time - 0.4).abs() < 0.05, "{p:?}");
}

#[test]
fn same_template_slide_switch_is_one_event_at_its_first_frame() {
    let mut frames = hold(&Screen::slide(1, 4), 2.0);
    frames.extend(hold(&Screen::slide(2, 4), 2.0));
    let pictures = run(&frames);
    let ev = events(&pictures);
    assert_eq!(ev.len(), 1, "{pictures:?}");
    assert_eq!(ev[0].cause, Cause::ScreenChange);
    assert!((ev[0].event_time - 2.0).abs() < 0.01, "{:?}", ev[0]);
    assert!(ev[0].picture_time >= 2.0 + 0.4 - 0.01 && ev[0].picture_time < 2.6);
}

#[test]
fn bullets_appearing_one_by_one_are_updates_not_events() {
    let mut frames = hold(&Screen::slide(3, 0), 1.5);
    for bullets in 1..=4 {
        frames.extend(hold(&Screen::slide(3, bullets), 1.5));
    }
    let pictures = run(&frames);
    assert!(events(&pictures).is_empty(), "{pictures:?}");
    let last = pictures.last().unwrap().1;
    assert_eq!(last.cause, Cause::Update);
    // The last picture shows all four bullets (taken after they appeared).
    assert!(last.picture_time > 6.0, "{last:?}");
}

/// A diagram: a title and boxes (outlined labels) joined by connectors;
/// `added` adds one more box below the last, with the connector to it.
fn diagram(added: bool) -> Screen {
    let labelled_box = |s: Screen, x: usize, y: usize, seed: usize| {
        s.with(Item::Box {
            x,
            y,
            w: 150,
            h: 60,
            shade: 60,
        })
        .with(Item::Box {
            x: x + 3,
            y: y + 3,
            w: 144,
            h: 54,
            shade: 235,
        })
        .with(Item::Text {
            x: x + 30,
            y: y + 22,
            w: 90,
            h: 16,
            seed,
        })
    };
    let connector = |s: Screen, x: usize, y: usize, len: usize| {
        s.with(Item::Box {
            x,
            y,
            w: 3,
            h: len,
            shade: 60,
        })
    };
    let mut s = Screen::page().with(Item::Text {
        x: 80,
        y: 30,
        w: 400,
        h: 36,
        seed: 5,
    });
    s = labelled_box(s, 120, 110, 1);
    s = labelled_box(s, 400, 110, 2);
    s = connector(s, 195, 170, 120);
    s = labelled_box(s, 120, 290, 3);
    if added {
        s = connector(s, 475, 170, 120);
        s = labelled_box(s, 400, 290, 4);
    }
    s
}

#[test]
fn a_box_and_a_connector_added_to_a_diagram_is_an_event() {
    let mut frames = hold(&diagram(false), 2.0);
    frames.extend(hold(&diagram(true), 2.0));
    let pictures = run(&frames);
    assert_eq!(events(&pictures).len(), 1, "{pictures:?}");
}

#[test]
fn a_blinking_caret_and_typing_make_no_event() {
    let base = Screen::slide(4, 2);
    let mut frames = hold(&base, 1.0);
    for i in 0..90 {
        // Typing: one more character every 4 frames; the caret after it
        // blinks every 15 frames.
        let chars = i / 4;
        let mut s = base.clone().with(Item::Text {
            x: 120,
            y: 300,
            w: chars * 9 + 1,
            h: 22,
            seed: 77,
        });
        if (i / 15) % 2 == 0 {
            s = s.with(Item::Box {
                x: 122 + chars * 9,
                y: 300,
                w: 2,
                h: 22,
                shade: 20,
            });
        }
        frames.push(s.signature());
    }
    frames.extend(hold(
        &base.clone().with(Item::Text {
            x: 120,
            y: 300,
            w: 22 * 9 + 1,
            h: 22,
            seed: 77,
        }),
        1.5,
    ));
    let pictures = run(&frames);
    assert!(events(&pictures).is_empty(), "{pictures:?}");
}

#[test]
fn a_video_playing_in_part_of_the_page_is_activity() {
    let base = Screen::slide(5, 3);
    let mut frames = hold(&base, 1.0);
    for i in 0..240 {
        // A 320x180 video whose "shots" cut every 40 frames.
        let shot = i / 40;
        let s = base.clone().with(Item::Noise {
            x: 600,
            y: 300,
            w: 320,
            h: 180,
            seed: shot * 1000 + i,
        });
        frames.push(s.signature());
    }
    let pictures = run(&frames);
    assert!(events(&pictures).is_empty(), "{pictures:?}");
}

#[test]
fn a_switch_around_a_playing_video_is_still_an_event() {
    let video = |i: usize| Item::Noise {
        x: 600,
        y: 300,
        w: 320,
        h: 180,
        seed: i,
    };
    let mut frames = Vec::new();
    for i in 0..120 {
        frames.push(Screen::slide(6, 3).with(video(i)).signature());
    }
    for i in 120..240 {
        frames.push(Screen::slide(7, 3).with(video(i)).signature());
    }
    let pictures = run(&frames);
    let ev = events(&pictures);
    assert_eq!(ev.len(), 1, "{pictures:?}");
    assert!((ev[0].event_time - 4.0).abs() < 0.05, "{:?}", ev[0]);
}

#[test]
fn a_still_frame_older_than_the_last_picture_is_not_pictured_again() {
    // When a video plays in the new screen, the detector's last still frame
    // can be one from before the last picture; that older screen is not
    // the scene's final content, and pictured after it would be the
    // scene's last picture.
    let mut detector = ScreenEvents::new(ScreenOptions::default());
    for (i, f) in hold(&Screen::slide(10, 3), 1.0).iter().enumerate() {
        detector.push(f.clone(), i as f64 / FPS);
    }
    let slide_10 = Seen {
        signature: Screen::slide(10, 3).signature(),
        time: 0.9,
    };
    detector.published = Some(Seen {
        signature: Screen::slide(11, 3).signature(),
        time: 2.0,
    });
    let mut step = ScreenStep::default();
    detector.update_check(&slide_10, PictureSource::Kept, &mut step);
    assert!(step.pictures.is_empty(), "{step:?}");
    // The same screen seen after the last picture is an update.
    let later = Seen {
        time: 2.5,
        ..slide_10
    };
    detector.update_check(&later, PictureSource::Kept, &mut step);
    assert_eq!(step.pictures.len(), 1, "{step:?}");
    assert_eq!(step.pictures[0].cause, Cause::Update);
}

#[test]
fn a_resolution_change_is_one_event() {
    let mut frames = hold(&Screen::slide(8, 2), 1.0);
    let small = OwnedLumaPlane::from_packed(vec![100; 480 * 270], 480, 270).unwrap();
    let small = Arc::new(FrameSignature::of(&small.as_plane()).unwrap());
    frames.extend(std::iter::repeat_n(small, 30));
    let pictures = run(&frames);
    let causes: Vec<Cause> = pictures.iter().map(|p| p.1.cause).collect();
    assert_eq!(
        causes,
        [Cause::Start, Cause::ResolutionChange],
        "{pictures:?}"
    );
}

#[test]
fn a_fade_between_slides_is_one_event() {
    let (a, b) = (
        Screen::slide(9, 4).render(0),
        Screen::slide(10, 4).render(0),
    );
    let mut frames = hold(&Screen::slide(9, 4), 1.0);
    for i in 1..=20 {
        let t = i as f64 / 20.0;
        let data = a
            .data
            .iter()
            .zip(&b.data)
            .map(|(&x, &y)| (x as f64 * (1.0 - t) + y as f64 * t).round() as u8)
            .collect();
        let p = OwnedLumaPlane::from_packed(data, W, H).unwrap();
        frames.push(Arc::new(FrameSignature::of(&p.as_plane()).unwrap()));
    }
    frames.extend(hold(&Screen::slide(10, 4), 1.5));
    let pictures = run(&frames);
    let ev = events(&pictures);
    assert_eq!(ev.len(), 1, "{pictures:?}");
    // Within the fade's span, and the picture after it.
    assert!(
        ev[0].event_time >= 1.0 && ev[0].event_time <= 1.0 + 20.0 / FPS,
        "{:?}",
        ev[0]
    );
    assert!(
        ev[0].picture_time >= 1.0 + 20.0 / FPS + 0.4 - 0.01,
        "{pictures:?}"
    );
}

/// A long document scrolled by `shift` pixels: lines of text of varying
/// length, 14 px tall every 24 px, on white.
fn document(shift: usize) -> Arc<FrameSignature> {
    let data: Vec<u8> = (0..W * H)
        .map(|p| {
            let (x, y) = (p % W, p / W + shift);
            let line = y / 24;
            let end = 900 - (line * 7919) % 400;
            let glyph = (x / 9 * 2654435761 + (y / 3) * 40503) % 7 < 3;
            if y % 24 < 14 && x > 60 && x < end && glyph {
                30
            } else {
                235
            }
        })
        .collect();
    let p = OwnedLumaPlane::from_packed(data, W, H).unwrap();
    Arc::new(FrameSignature::of(&p.as_plane()).unwrap())
}

#[test]
fn a_small_scroll_is_not_an_event_and_a_page_down_is() {
    let mut frames: Vec<Arc<FrameSignature>> = vec![document(0); 30];
    // One wheel notch: 60 px over 4 frames.
    for k in 1..=4 {
        frames.push(document(k * 15));
    }
    frames.extend(vec![document(60); 45]);
    let notch_only = run(&frames);
    assert!(events(&notch_only).is_empty(), "{notch_only:?}");
    // Page Down: 480 px over 6 frames.
    for k in 1..=6 {
        frames.push(document(60 + k * 80));
    }
    frames.extend(vec![document(540); 45]);
    let pictures = run(&frames);
    let ev = events(&pictures);
    assert_eq!(ev.len(), 1, "{pictures:?}");
    // Too little of the page stays in view to see the scroll: a new screen.
    assert!(matches!(
        ev[0].cause,
        Cause::ScrollJump | Cause::ScreenChange
    ));
    assert!((ev[0].event_time - 80.0 / FPS).abs() < 0.05, "{:?}", ev[0]);
}

#[test]
fn a_half_page_scroll_is_a_scroll_jump() {
    let mut frames: Vec<Arc<FrameSignature>> = vec![document(0); 30];
    for k in 1..=6 {
        frames.push(document(k * 50));
    }
    frames.extend(vec![document(300); 45]);
    let ev = events(&run(&frames));
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(ev[0].cause, Cause::ScrollJump);
}

#[test]
fn shot_cuts_in_full_frame_footage_are_events() {
    let mut frames = Vec::new();
    let mut cuts = Vec::new();
    for shot in 0..4 {
        cuts.push(frames.len());
        for i in 0..60 {
            // Moving footage: the pattern drifts every frame; each shot has
            // its own brightness and texture.
            let data: Vec<u8> = (0..W * H)
                .map(|p| {
                    let (x, y) = (p % W + i * 3, p / W + i);
                    let base = 40 + shot * 45;
                    (base + ((x / (4 + shot)) * 7 + (y / 5) * 13 + shot * 17) % 40) as u8
                })
                .collect();
            let p = OwnedLumaPlane::from_packed(data, W, H).unwrap();
            frames.push(Arc::new(FrameSignature::of(&p.as_plane()).unwrap()));
        }
    }
    let pictures = run(&frames);
    let ev: Vec<f64> = events(&pictures)
        .iter()
        .filter(|p| p.cause == Cause::ShotCut)
        .map(|p| p.event_time)
        .collect();
    // The first cut is the stream start; the other three are found.
    let want: Vec<f64> = cuts[1..].iter().map(|&c| c as f64 / FPS).collect();
    assert_eq!(ev.len(), want.len(), "{pictures:?}");
    for (got, want) in ev.iter().zip(&want) {
        assert!((got - want).abs() < 1.5 / FPS, "{got} vs {want}");
    }
}

/// Footage whose motion speeds up towards each cut, one shot texture per
/// shot (`speed` pixels per frame at frame `i` of 60).
fn accelerating_footage(shots: usize) -> (Vec<Arc<FrameSignature>>, Vec<usize>) {
    let (mut frames, mut cuts) = (Vec::new(), Vec::new());
    for shot in 0..shots {
        cuts.push(frames.len());
        let mut offset = 0;
        for i in 0..60 {
            offset += 1 + i / 10;
            let data: Vec<u8> = (0..W * H)
                .map(|p| {
                    let (x, y) = (p % W + offset, p / W);
                    let base = 40 + shot * 28;
                    (base + (x % 96) + (y % 90) / 3) as u8
                })
                .collect();
            let p = OwnedLumaPlane::from_packed(data, W, H).unwrap();
            frames.push(Arc::new(FrameSignature::of(&p.as_plane()).unwrap()));
        }
    }
    (frames, cuts)
}

fn cut_times(frames: &[(f64, Arc<FrameSignature>)]) -> Vec<f64> {
    let mut detector = ScreenEvents::new(ScreenOptions::default());
    let mut pictures = Vec::new();
    for (time, f) in frames {
        pictures.extend(detector.push(f.clone(), *time).pictures);
    }
    pictures.extend(detector.finish().pictures);
    pictures
        .iter()
        .filter(|p| p.cause == Cause::ShotCut)
        .map(|p| p.event_time)
        .collect()
}

#[test]
fn a_cut_after_skipped_pictures_is_found_as_with_every_picture() {
    // What the offline analysis sees when disposable pictures are not
    // decoded: every other frame, except that the cut frame (a reference
    // picture) follows the frame before it directly.
    let (frames, cuts) = accelerating_footage(4);
    let timed: Vec<(f64, Arc<FrameSignature>)> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| (i as f64 / FPS, f.clone()))
        .collect();
    let skipping: Vec<(f64, Arc<FrameSignature>)> = timed
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0 || cuts.contains(&(i + 1)) || cuts.contains(i))
        .map(|(_, f)| f.clone())
        .collect();
    let every = cut_times(&timed);
    // Once the footage regime holds (from the second shot on), every cut
    // is found with every picture.
    for cut in &cuts[2..] {
        let time = *cut as f64 / FPS;
        assert!(every.iter().any(|t| (t - time).abs() < 1e-6), "{every:?}");
    }
    assert_eq!(cut_times(&skipping), every);
}

#[test]
fn a_hard_cut_changes_most_of_the_picture_strongly() {
    let noise = |seed: usize| {
        Screen::page()
            .with(Item::Noise {
                x: 0,
                y: 0,
                w: W,
                h: H,
                seed,
            })
            .signature()
    };
    assert!(hard_cut(&noise(1), &noise(2)), "one shot to another");
    assert!(!hard_cut(&noise(1), &noise(1)));
    // A video playing in a quarter of the page is no cut of the page.
    let page = |seed: usize| {
        Screen::slide(1, 3)
            .with(Item::Noise {
                x: 480,
                y: 270,
                w: 480,
                h: 270,
                seed,
            })
            .signature()
    };
    assert!(!hard_cut(&page(1), &page(2)));
    let small = OwnedLumaPlane::from_packed(vec![100; 480 * 270], 480, 270).unwrap();
    let small = FrameSignature::of(&small.as_plane()).unwrap();
    assert!(hard_cut(&noise(1), &small), "a new picture size");
}

/// A page of nine text lines `width` wide, scrolled up by `scroll` pixels.
fn scrolled_lines(scroll: usize, width: usize) -> Screen {
    (0..9).fold(Screen::page(), |s, i| {
        s.with(Item::Text {
            x: 40,
            y: 60 + i * 50 - scroll,
            w: width,
            h: 22,
            seed: 40 + i,
        })
    })
}

#[test]
fn a_wheel_scroll_that_carries_a_playing_video_is_no_event() {
    // A page of text with a video playing in it; one wheel notch moves
    // the page, video included, up by 60 pixels, and the video plays on.
    let page = |scroll: usize, frame: usize| {
        let s = scrolled_lines(scroll, 220).with(Item::Noise {
            x: 300,
            y: 150 - scroll,
            w: 620,
            h: 300,
            // A new picture every 10 frames: slow enough that the video
            // at its new place is not yet activity a bound later.
            seed: frame / 10,
        });
        Arc::new(FrameSignature::of(&s.render(scroll).as_plane()).unwrap())
    };
    let mut frames = Vec::new();
    for f in 0..120 {
        frames.push(page(0, f));
    }
    for f in 120..240 {
        frames.push(page(60, f));
    }
    let pictures = run(&frames);
    assert!(events(&pictures).is_empty(), "{pictures:?}");
}

#[test]
fn a_scrolled_page_is_pictured_before_the_next_switch_while_the_pointer_moves() {
    // A wheel scroll (no new screen), then the pointer travels to a link
    // and the page switches a second later: the pointer never lets the
    // screen be still, so the update picture of the scrolled page, the
    // scene's final content, must come with the switch.
    let page = |scroll: usize, pointer: Option<usize>| {
        let mut s = scrolled_lines(scroll, 620);
        if let Some(step) = pointer {
            s = with_pointer(&s, 700 - 4 * step, 400 - 3 * step);
        }
        s.signature()
    };
    let mut frames = vec![page(0, None); 90];
    frames.extend(vec![page(60, None); 15]);
    frames.extend((0..45).map(|step| page(60, Some(step))));
    frames.extend(hold(&Screen::slide(9, 4), 1.5));
    let pictures = run(&frames);
    let switch = pictures
        .iter()
        .position(|(_, p)| p.cause == Cause::ScreenChange)
        .unwrap_or_else(|| panic!("the switch is an event: {pictures:?}"));
    let before = pictures[..switch].last().map(|p| p.1);
    assert!(
        before.is_some_and(|p| p.cause == Cause::Update
            && p.source == PictureSource::Kept
            && p.picture_time >= 3.0),
        "an update of the scrolled page comes before the switch: {pictures:?}"
    );
}

#[test]
fn a_popup_that_goes_away_leaves_no_event() {
    // A bullet is added (no new screen), then a popup appears at the top
    // centre over empty background and goes away three seconds later: the
    // screen is back to the one before the popup, which is not the last
    // new screen pictured (that one had no bullet).
    let slide = Screen::slide(6, 2);
    let built = Screen::slide(6, 3);
    let popup = with_popup(&built, (360, 450, 240, 56), 60, 91);
    let mut frames = hold(&slide, 1.5);
    frames.extend(hold(&built, 3.0));
    frames.extend(hold(&popup, 3.0));
    frames.extend(hold(&built, 2.0));
    let pictures = run(&frames);
    assert!(events(&pictures).is_empty(), "{pictures:?}");
}

/// `screen` with a popup over it: a box (x, y, w, h) of `shade` with a line
/// of text (from `seed`) across its middle.
fn with_popup(
    screen: &Screen,
    (x, y, w, h): (usize, usize, usize, usize),
    shade: u8,
    seed: usize,
) -> Screen {
    screen
        .clone()
        .with(Item::Box { x, y, w, h, shade })
        .with(Item::Text {
            x: x + 12,
            y: y + (h - 16) / 2,
            w: w - 40,
            h: 16,
            seed,
        })
}

/// A pointer (a small dark arrow box) at (`x`, `y`) on `screen`.
fn with_pointer(screen: &Screen, x: usize, y: usize) -> Screen {
    screen.clone().with(Item::Box {
        x,
        y,
        w: 8,
        h: 14,
        shade: 10,
    })
}

#[test]
fn a_highlight_under_the_pointer_is_no_event() {
    // Cards of text; the pointer glides onto the second card, which is
    // highlighted (a darker fill and a border) while the pointer is on it,
    // then down onto the third, which takes the highlight over. (Not back
    // to the screen before a highlight: that is an overlay going away.)
    let card = |highlight: Option<usize>| {
        let mut s = Screen::page();
        for i in 0..4 {
            let y = 60 + i * 110;
            if highlight == Some(i) {
                s = s
                    .with(Item::Box {
                        x: 100,
                        y,
                        w: 560,
                        h: 70,
                        shade: 40,
                    })
                    .with(Item::Box {
                        x: 104,
                        y: y + 4,
                        w: 552,
                        h: 62,
                        shade: 205,
                    });
            }
            s = s.with(Item::Text {
                x: 120,
                y: y + 20,
                w: 300 + 50 * i,
                h: 22,
                seed: 50 + i,
            });
        }
        s
    };
    // The card under (`x`, `y`).
    let under = |x: usize, y: usize| (100..660).contains(&x).then(|| (y.max(60) - 60) / 110);
    let on =
        |x: usize, y: usize| under(x, y).filter(|&i| (60 + i * 110..130 + i * 110).contains(&y));
    let mut frames = hold(&with_pointer(&card(None), 880, 100), 1.5);
    // Onto the second card: 10 frames of motion, the highlight from the
    // frame the pointer enters it.
    for f in 0..=10 {
        let (x, y) = (880 - f * 30, 100 + f * 10);
        frames.push(with_pointer(&card(on(x, y)), x, y).signature());
    }
    frames.extend(hold(&with_pointer(&card(Some(1)), 580, 200), 2.0));
    // Down onto the third card.
    for f in 1..=10 {
        let (x, y) = (580, 200 + f * 11);
        frames.push(with_pointer(&card(on(x, y)), x, y).signature());
    }
    frames.extend(hold(&with_pointer(&card(Some(2)), 580, 310), 2.0));
    let pictures = run(&frames);
    assert!(events(&pictures).is_empty(), "{pictures:?}");
}

#[test]
fn an_editor_opening_over_a_short_shell_session_is_an_event() {
    // Three lines of a shell session, then an editor fills the screen with
    // a file. Its first two lines happen to look like the shell's (text
    // over text of the same density leaves cells as they were), the third
    // replaces the prompt: a third of the earlier content is replaced,
    // while most of what shows is drawn on background.
    let line = |i: usize, seed: usize| Item::Text {
        x: 10,
        y: 10 + i * 21,
        w: [420, 380, 180][i.min(2)] - (i * 37) % 60,
        h: 14,
        seed,
    };
    let shell = Screen::page()
        .with(line(0, 1))
        .with(line(1, 2))
        .with(line(2, 3));
    let mut editor = Screen::page().with(line(0, 1)).with(line(1, 2));
    for i in 2..24 {
        editor = editor.with(line(i, 100 + i));
    }
    // The command is typed a character at a time (pointer-sized changes
    // where the editor then draws: no hover), then Enter half a second on.
    let typed = |chars: usize| {
        let mut s = Screen::page().with(line(0, 1)).with(line(1, 2));
        if let Item::Text { x, y, h, seed, .. } = line(2, 3) {
            s = s.with(Item::Text {
                x,
                y,
                w: chars * 9,
                h,
                seed,
            });
        }
        s
    };
    let mut frames = hold(&typed(1), 1.0);
    for chars in 2..=20 {
        frames.extend(hold(&typed(chars), 0.1));
    }
    frames.extend(hold(&shell, 0.5));
    let enter = frames.len() as f64 / FPS;
    frames.extend(hold(&editor, 2.0));
    let pictures = run(&frames);
    let ev = events(&pictures);
    assert_eq!(ev.len(), 1, "{pictures:?}");
    assert!((ev[0].event_time - enter).abs() < 0.05, "{:?}", ev[0]);
}

#[test]
fn a_notification_in_a_corner_is_not_pictured() {
    // A notification (a filled box with a line of text) in the top right
    // corner for three seconds, longer than an update waits for.
    let slide = Screen::slide(8, 3);
    let notified = with_popup(&slide, (720, 20, 220, 48), 70, 92);
    let mut frames = hold(&slide, 1.5);
    frames.extend(hold(&notified, 3.0));
    frames.extend(hold(&slide, 3.0));
    let pictures = run(&frames);
    assert_eq!(pictures.len(), 1, "{pictures:?}");
    assert_eq!(pictures[0].1.cause, Cause::Start);
}
