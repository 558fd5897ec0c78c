//! The labelled corpus: clips built from ffmpeg's lavfi sources and drawn
//! slides, whose cut frames are known because we place them.
//!
//! Each clip is a list of segments concatenated at 30 fps; every segment is
//! trimmed to an exact frame count, so a "cut" segment boundary is the index
//! of the first frame of the new scene. Boundaries that are fades, or
//! segments whose content only moves, scrolls, types or fades, are not cuts.

use std::fmt::Write as _;

pub const FPS: usize = 30;
pub const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
pub const MONO_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    HardCut,
    ScreenShare,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::HardCut => "hard cuts",
            Class::ScreenShare => "screen share",
        }
    }
}

/// One stretch of a clip: a filter chain (may use `@` as a unique label
/// prefix for internal pads) and its exact length.
pub struct Segment {
    pub chain: String,
    pub frames: usize,
    /// The boundary before this segment is a hard cut (else a continuation
    /// or a fade that the chain itself renders).
    pub cut_before: bool,
}

pub struct Clip {
    pub name: &'static str,
    pub class: Class,
    pub width: usize,
    pub height: usize,
    pub segments: Vec<Segment>,
}

impl Clip {
    pub fn frames(&self) -> usize {
        self.segments.iter().map(|s| s.frames).sum()
    }

    /// Frame indices that start a new scene.
    pub fn cuts(&self) -> Vec<usize> {
        let mut at = 0;
        let mut cuts = Vec::new();
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 && seg.cut_before {
                cuts.push(at);
            }
            at += seg.frames;
        }
        cuts
    }

    /// The whole `-filter_complex` script, output pad `[out]`.
    pub fn filter_graph(&self) -> String {
        let mut graph = String::new();
        for (i, seg) in self.segments.iter().enumerate() {
            let chain = seg.chain.replace('@', &format!("s{i}_"));
            let _ = writeln!(
                graph,
                "{chain},trim=end_frame={},setpts=PTS-STARTPTS,scale={}:{},format=yuv420p,setsar=1[s{i}];",
                seg.frames, self.width, self.height
            );
        }
        for i in 0..self.segments.len() {
            let _ = write!(graph, "[s{i}]");
        }
        let _ = write!(graph, "concat=n={}:v=1:a=0[out]", self.segments.len());
        graph
    }
}

/// A tiny deterministic generator for text and layout choices.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
}

const WORDS: &[&str] = &[
    "revenue",
    "growth",
    "market",
    "customer",
    "pipeline",
    "latency",
    "storage",
    "network",
    "release",
    "quality",
    "feature",
    "design",
    "review",
    "budget",
    "quarter",
    "region",
    "service",
    "monitor",
    "capacity",
    "backlog",
    "sprint",
    "roadmap",
    "metric",
    "target",
    "baseline",
    "incident",
    "recovery",
    "database",
    "cluster",
    "render",
    "encoder",
    "stream",
    "segment",
    "buffer",
    "memory",
    "thread",
    "update",
    "policy",
    "account",
    "partner",
    "launch",
    "hiring",
    "support",
    "invoice",
    "forecast",
    "audit",
    "security",
    "upgrade",
    "migration",
    "schema",
    "we",
    "will",
    "the",
    "and",
    "for",
    "with",
    "from",
    "into",
    "over",
    "by",
    "new",
    "all",
    "next",
    "our",
];

pub fn sentence(rng: &mut Rng, min_words: usize, max_words: usize) -> String {
    let n = rng.range(min_words, max_words);
    (0..n)
        .map(|_| WORDS[rng.range(0, WORDS.len() - 1)])
        .collect::<Vec<_>>()
        .join(" ")
}

fn title(rng: &mut Rng) -> String {
    let mut t = sentence(rng, 2, 4);
    if let Some(first) = t.get(..1) {
        t.replace_range(..1, &first.to_uppercase());
    }
    t
}

// ---------------------------------------------------------------- drawing

fn text(
    font: &str,
    s: &str,
    color: &str,
    size: usize,
    x: usize,
    y: usize,
    enable: Option<String>,
) -> String {
    let mut f = format!(
        "drawtext=fontfile={font}:text='{s}':fontcolor={color}:fontsize={size}:x={x}:y={y}"
    );
    if let Some(e) = enable {
        let _ = write!(f, ":enable='{e}'");
    }
    f
}

#[derive(Clone, Copy)]
pub struct Theme {
    pub background: &'static str,
    pub bar: &'static str,
    pub bar_text: &'static str,
    pub body_text: &'static str,
}

pub const LIGHT: Theme = Theme {
    background: "0xF8F8F8",
    bar: "0x2B579A",
    bar_text: "white",
    body_text: "0x222222",
};
pub const DARK: Theme = Theme {
    background: "0x1E1E1E",
    bar: "0x3C3C3C",
    bar_text: "0xE0E0E0",
    body_text: "0xD4D4D4",
};

/// A slide: title bar and bullet lines; `reveal` makes line `i` appear at
/// `start + i * every` seconds (typing line by line).
pub struct Slide {
    pub theme: Theme,
    pub title: String,
    pub lines: Vec<String>,
    pub number: usize,
    pub reveal: Option<(f64, f64)>,
}

impl Slide {
    pub fn random(rng: &mut Rng, theme: Theme, number: usize) -> Slide {
        let n = rng.range(4, 8);
        let lines = (0..n)
            .map(|_| format!("- {}", sentence(rng, 4, 8)))
            .collect();
        Slide {
            theme,
            title: title(rng),
            lines,
            number,
            reveal: None,
        }
    }

    /// The filters that draw this slide onto a background chain.
    pub fn draw(&self, w: usize, h: usize) -> String {
        let t = self.theme;
        let mut f = format!(
            "color=c={}:s={w}x{h}:r={FPS},drawbox=x=0:y=0:w={w}:h=70:color={}:t=fill,{}",
            t.background,
            t.bar,
            text(FONT, &self.title, t.bar_text, 36, 40, 16, None)
        );
        for (i, line) in self.lines.iter().enumerate() {
            let enable = self
                .reveal
                .map(|(start, every)| format!("gte(t,{:.3})", start + i as f64 * every));
            let _ = write!(
                f,
                ",{}",
                text(FONT, line, t.body_text, 24, 60, 100 + i * 44, enable)
            );
        }
        let _ = write!(
            f,
            ",{}",
            text(
                FONT,
                &format!("{}", self.number),
                t.body_text,
                16,
                w - 50,
                h - 30,
                None
            )
        );
        f
    }
}

/// Overlays a 12x18 "cursor" that wanders over the chain `base`.
fn with_cursor(base: &str, rng: &mut Rng) -> String {
    let (x0, y0) = (rng.range(100, 700), rng.range(120, 400));
    let (sx, sy) = (rng.range(40, 260), rng.range(20, 120));
    format!(
        "{base}[@bg];color=c=black:s=12x18:r={FPS}[@cur];\
         [@bg][@cur]overlay=x='{x0}+{sx}*sin(1.3*t)':y='{y0}+{sy}*sin(0.9*t+1)':eval=frame:shortest=1"
    )
}

/// A notification box visible from `from` to `to` seconds.
fn with_popup(base: &str, w: usize, from: f64, to: f64, rng: &mut Rng) -> String {
    let e = format!("between(t,{from:.3},{to:.3})");
    let msg = sentence(rng, 2, 4);
    format!(
        "{base},drawbox=x={}:y=20:w=300:h=70:color=0x444444:t=fill:enable='{e}',{}",
        w - 320,
        text(FONT, &msg, "white", 18, w - 305, 45, Some(e.clone()))
    )
}

// ------------------------------------------------------------ hard cuts

const SW: usize = 640;
const SH: usize = 360;

/// Synthetic sources with motion, as lavfi chains at 640x360.
fn source(kind: usize, rng: &mut Rng) -> String {
    let seed = rng.range(1, 1_000_000);
    match kind % 12 {
        0 => format!("testsrc2=s={SW}x{SH}:r={FPS}"),
        1 => {
            let (x, y) = (-0.743643887 + rng.range(0, 100) as f64 * 1e-4, 0.131825904 + rng.range(0, 100) as f64 * 1e-4);
            format!("mandelbrot=s={SW}x{SH}:r={FPS}:start_x={x}:start_y={y}:start_scale={}", 1.0 + rng.range(0, 20) as f64 / 10.0)
        }
        2 => format!("life=s=160x90:r={FPS}:seed={seed}:ratio=0.{}:mold=10,scale={SW}:{SH}:flags=neighbor", rng.range(1, 5)),
        3 => format!("cellauto=s={SW}x{SH}:r={FPS}:rule={}:random_seed={seed}:start_full=1", [18, 30, 90, 110, 150][rng.range(0, 4)]),
        4 => format!("smptebars=s={SW}x{SH}:r={FPS},scroll=h=0.00{}", rng.range(2, 6)),
        5 => format!("gradients=s={SW}x{SH}:r={FPS}:seed={seed}:speed=0.0{}", rng.range(1, 4)),
        6 => format!("color=c=0x{:06x}:s={SW}x{SH}:r={FPS},noise=alls={}:allf=t", rng.next() & 0x7f7f7f, rng.range(15, 40)),
        7 => format!("sierpinski=s={SW}x{SH}:r={FPS}:seed={seed}:jump={}", rng.range(1, 3)),
        // A pan across a big still picture: camera-like gradual motion.
        8 => format!("testsrc=s=1920x1080:r={FPS},crop={SW}:{SH}:x='100+t*{}':y='80+t*{}'", rng.range(20, 80), rng.range(5, 40)),
        9 => format!("smptehdbars=s={SW}x{SH}:r={FPS},rotate=a='t*0.{}':fillcolor=gray", rng.range(2, 6)),
        10 => format!("rgbtestsrc=s={SW}x{SH}:r={FPS},hue=h='t*{}'", rng.range(20, 60)),
        _ => format!(
            "mandelbrot=s=320x180:r={FPS},scale={SW}:{SH},zoompan=z='min(zoom+0.002,1.5)':d=1:s={SW}x{SH}:fps={FPS}"
        ),
    }
}

fn seconds(rng: &mut Rng, lo_tenths: usize, hi_tenths: usize) -> usize {
    rng.range(lo_tenths, hi_tenths) * FPS / 10
}

/// A run of synthetic scenes, each cut to the next; `fade_every` turns
/// every n-th boundary into a fade through black (not a cut).
fn synthetic_clip(name: &'static str, seed: u64, kinds: &[usize], fade_every: usize) -> Clip {
    let mut rng = Rng::new(seed);
    let mut segments = Vec::new();
    for (i, &kind) in kinds.iter().enumerate() {
        let frames = seconds(&mut rng, 12, 30);
        let fade_in = fade_every > 0 && i > 0 && i % fade_every == 0;
        let fade_out = fade_every > 0 && (i + 1) % fade_every == 0 && i + 1 < kinds.len();
        let mut chain = source(kind, &mut rng);
        if fade_in {
            chain.push_str(",fade=t=in:st=0:d=0.5");
        }
        if fade_out {
            let end = frames as f64 / FPS as f64;
            let _ = write!(chain, ",fade=t=out:st={:.3}:d=0.5", end - 0.5);
        }
        segments.push(Segment {
            chain,
            frames,
            cut_before: !fade_in,
        });
    }
    Clip {
        name,
        class: Class::HardCut,
        width: SW,
        height: SH,
        segments,
    }
}

/// Cuts between scenes of the same generator: similar texture and histogram.
fn same_source_clip(seed: u64) -> Clip {
    let mut rng = Rng::new(seed);
    let kinds = [2, 2, 2, 1, 1, 1, 5, 5, 5, 6, 6, 3, 3];
    let segments = kinds
        .iter()
        .map(|&k| Segment {
            chain: source(k, &mut rng),
            frames: seconds(&mut rng, 12, 25),
            cut_before: true,
        })
        .collect();
    Clip {
        name: "same_source",
        class: Class::HardCut,
        width: SW,
        height: SH,
        segments,
    }
}

// --------------------------------------------------------- screen share

const W: usize = 960;
const H: usize = 540;

fn slide_segment(slide: &Slide, frames: usize, cursor: Option<&mut Rng>) -> Segment {
    let mut chain = slide.draw(W, H);
    if let Some(rng) = cursor {
        chain = with_cursor(&chain, rng);
    }
    Segment {
        chain,
        frames,
        cut_before: true,
    }
}

/// Slide decks with a wandering cursor; `same_title` keeps the title over
/// consecutive slides so that only body text changes.
fn deck_clip(name: &'static str, seed: u64, theme: Theme, slides: usize, same_title: bool) -> Clip {
    let mut rng = Rng::new(seed);
    let mut segments = Vec::new();
    let mut last_title = String::new();
    for n in 0..slides {
        let mut slide = Slide::random(&mut rng, theme, n + 1);
        if same_title && n % 3 != 0 {
            slide.title = last_title.clone();
        }
        last_title = slide.title.clone();
        let frames = seconds(&mut rng, 15, 35);
        let cursor = n % 2 == 0;
        segments.push(slide_segment(&slide, frames, cursor.then_some(&mut rng)));
    }
    Clip {
        name,
        class: Class::ScreenShare,
        width: W,
        height: H,
        segments,
    }
}

/// Slides whose bullets appear one line at a time, then the next slide.
fn typing_clip(seed: u64) -> Clip {
    let mut rng = Rng::new(seed);
    let mut segments = Vec::new();
    for n in 0..5 {
        let mut slide = Slide::random(&mut rng, if n % 2 == 0 { LIGHT } else { DARK }, n + 1);
        let every = rng.range(4, 8) as f64 / 10.0;
        slide.reveal = Some((0.5, every));
        let frames = ((0.5 + every * slide.lines.len() as f64 + 1.0) * FPS as f64) as usize;
        segments.push(slide_segment(&slide, frames, None));
    }
    Clip {
        name: "typing_lines",
        class: Class::ScreenShare,
        width: W,
        height: H,
        segments,
    }
}

/// A terminal: words typed one by one, lines scrolling in, `clear` = cut.
fn terminal_clip(seed: u64) -> Clip {
    let mut rng = Rng::new(seed);
    let mut segments = Vec::new();
    let char_w = 14.45; // DejaVu Sans Mono advance at 24 px
    for _ in 0..4 {
        let mut chain = format!("color=c=0x101010:s={W}x{H}:r={FPS}");
        let mut t = 0.4;
        let lines = rng.range(6, 10);
        for l in 0..lines {
            let mut x = 20.0;
            let prompt = text(
                MONO_FONT,
                "$",
                "0x7CFC00",
                24,
                20,
                20 + l * 34,
                Some(format!("gte(t,{t:.3})")),
            );
            let _ = write!(chain, ",{prompt}");
            x += 2.0 * char_w;
            for _ in 0..rng.range(3, 7) {
                let word = WORDS[rng.range(0, WORDS.len() - 1)];
                let e = format!("gte(t,{t:.3})");
                let _ = write!(
                    chain,
                    ",{}",
                    text(
                        MONO_FONT,
                        word,
                        "0xDDDDDD",
                        24,
                        x as usize,
                        20 + l * 34,
                        Some(e)
                    )
                );
                x += (word.len() + 1) as f64 * char_w;
                t += rng.range(1, 3) as f64 / 10.0;
            }
            t += 0.3;
        }
        let frames = ((t + 0.8) * FPS as f64) as usize;
        segments.push(Segment {
            chain,
            frames,
            cut_before: true,
        });
    }
    Clip {
        name: "terminal",
        class: Class::ScreenShare,
        width: W,
        height: H,
        segments,
    }
}

/// A long page scrolled smoothly, then by wheel jumps; documents switch by cut.
fn scroll_clip(seed: u64) -> Clip {
    let mut rng = Rng::new(seed);
    let mut segments = Vec::new();
    let page_h = 2400;
    for doc in 0..4 {
        let mut chain = format!("color=c=white:s={W}x{page_h}:r={FPS}");
        for l in 0..(page_h - 40) / 40 {
            let line = if l % 9 == 0 {
                title(&mut rng)
            } else {
                sentence(&mut rng, 5, 10)
            };
            let size = if l % 9 == 0 { 30 } else { 22 };
            let _ = write!(
                chain,
                ",{}",
                text(FONT, &line, "0x202020", size, 40, 20 + l * 40, None)
            );
        }
        let max_y = page_h - H;
        // Smooth scroll for odd documents, wheel jumps (90 px every 0.4 s) for even.
        let y = if doc % 2 == 1 {
            format!("min(max(0,(t-1)*{}),{max_y})", rng.range(60, 240))
        } else {
            format!("min(floor(max(0,t-1)/0.4)*90,{max_y})")
        };
        let _ = write!(chain, ",crop={W}:{H}:0:'{y}'");
        segments.push(Segment {
            chain,
            frames: seconds(&mut rng, 50, 70),
            cut_before: true,
        });
    }
    Clip {
        name: "scrolling",
        class: Class::ScreenShare,
        width: W,
        height: H,
        segments,
    }
}

/// Slides with cursor motion and notification pop-ups (neither is a cut).
fn popup_clip(seed: u64) -> Clip {
    let mut rng = Rng::new(seed);
    let mut segments = Vec::new();
    for n in 0..6 {
        let slide = Slide::random(&mut rng, LIGHT, n + 1);
        let frames = seconds(&mut rng, 30, 45);
        let from = rng.range(5, 12) as f64 / 10.0;
        let chain = with_popup(
            &with_cursor(&slide.draw(W, H), &mut rng),
            W,
            from,
            from + 1.5,
            &mut rng,
        );
        segments.push(Segment {
            chain,
            frames,
            cut_before: true,
        });
    }
    Clip {
        name: "cursor_popups",
        class: Class::ScreenShare,
        width: W,
        height: H,
        segments,
    }
}

/// Slide changes by cross-fade (not cuts) mixed with hard switches (cuts).
fn fade_clip(seed: u64) -> Clip {
    let mut rng = Rng::new(seed);
    let mut segments = Vec::new();
    for n in 0..6 {
        let theme = if n % 3 == 2 { DARK } else { LIGHT };
        let a = Slide::random(&mut rng, theme, 2 * n + 1);
        let b = Slide::random(&mut rng, theme, 2 * n + 2);
        let (len_a, len_b) = (seconds(&mut rng, 15, 25), seconds(&mut rng, 15, 25));
        let fade = [0.5, 0.7, 1.0][n % 3];
        let offset = len_a as f64 / FPS as f64 - fade;
        let chain = format!(
            "{}[@a];{}[@b];[@a][@b]xfade=transition=fade:duration={fade}:offset={offset:.4}",
            a.draw(W, H),
            b.draw(W, H),
        );
        // xfade output: `offset` of A, then B from its start.
        let frames = (offset * FPS as f64).round() as usize + len_b;
        segments.push(Segment {
            chain,
            frames,
            cut_before: true,
        });
    }
    // Fade to black and back between two slides.
    let s = Slide::random(&mut rng, LIGHT, 99);
    segments.push(Segment {
        chain: format!("{},fade=t=out:st=1.5:d=0.7", s.draw(W, H)),
        frames: 66,
        cut_before: true,
    });
    let s = Slide::random(&mut rng, LIGHT, 100);
    segments.push(Segment {
        chain: format!("{},fade=t=in:st=0:d=0.7", s.draw(W, H)),
        frames: 60,
        cut_before: false,
    });
    Clip {
        name: "fades",
        class: Class::ScreenShare,
        width: W,
        height: H,
        segments,
    }
}

/// A video playing inside slides (moving region), with slide switches.
fn video_in_slide_clip(seed: u64) -> Clip {
    let mut rng = Rng::new(seed);
    let mut segments = Vec::new();
    for n in 0..6 {
        let mut slide = Slide::random(&mut rng, LIGHT, n + 1);
        slide.lines.truncate(4);
        let video = source(rng.range(0, 7), &mut rng);
        let chain = format!(
            "{}[@bg];{video},scale=400:225[@v];[@bg][@v]overlay=x=520:y=280:shortest=1",
            slide.draw(W, H)
        );
        segments.push(Segment {
            chain,
            frames: seconds(&mut rng, 20, 35),
            cut_before: true,
        });
    }
    Clip {
        name: "video_in_slide",
        class: Class::ScreenShare,
        width: W,
        height: H,
        segments,
    }
}

pub fn all_clips() -> Vec<Clip> {
    vec![
        synthetic_clip(
            "synthetic_a",
            1,
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 2, 4],
            0,
        ),
        synthetic_clip(
            "synthetic_b",
            2,
            &[8, 3, 11, 6, 0, 5, 1, 10, 7, 2, 9, 4, 8, 1],
            0,
        ),
        synthetic_clip(
            "synthetic_fades",
            3,
            &[1, 0, 5, 8, 2, 11, 4, 6, 3, 0, 7, 10],
            3,
        ),
        synthetic_clip("pans_and_zooms", 4, &[8, 11, 8, 4, 11, 8, 10, 4, 8, 11], 0),
        same_source_clip(5),
        deck_clip("deck_light", 10, LIGHT, 10, false),
        deck_clip("deck_dark_same_title", 11, DARK, 10, true),
        typing_clip(12),
        terminal_clip(13),
        scroll_clip(14),
        popup_clip(15),
        fade_clip(16),
        video_in_slide_clip(17),
    ]
}
