//! `cht probe`: what is in a TS file, an MP4 file or a session.

use crate::cli::ProbeArgs;
use anyhow::{bail, Context};
use cht_core::aac::AacConfig;
use cht_core::h264::AvcDecoderConfig;
use cht_core::{VideoParams, CLOCK_HZ};
use cht_session::Layout;
use cht_ts::{DemuxItem, DemuxStats, TsDemuxer};
use serde::Serialize;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

pub fn run(args: ProbeArgs) -> anyhow::Result<()> {
    let path = &args.file;
    if path.is_dir() {
        return probe_session(path, args.json);
    }
    match sniff(path)? {
        Kind::Mp4 => {
            let info =
                cht_fmp4::probe(path).with_context(|| format!("cannot read {}", path.display()))?;
            print(&info, args.json, || mp4_text(path, &info))
        }
        Kind::Ts => {
            let info = probe_ts(path)?;
            print(&info, args.json, || info.to_text(path))
        }
    }
}

enum Kind {
    Ts,
    Mp4,
}

fn sniff(path: &Path) -> anyhow::Result<Kind> {
    let mut head = [0u8; 8];
    let mut f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let n = f.read(&mut head)?;
    if n == 0 {
        bail!("{} is empty", path.display());
    }
    let is_box = n == 8
        && matches!(
            &head[4..8],
            b"ftyp" | b"moov" | b"styp" | b"free" | b"mdat" | b"skip" | b"wide"
        );
    Ok(if is_box { Kind::Mp4 } else { Kind::Ts })
}

fn print<T: Serialize>(value: &T, json: bool, text: impl FnOnce() -> String) -> anyhow::Result<()> {
    if json {
        crate::stdout_line(&serde_json::to_string_pretty(value)?)
    } else {
        crate::stdout_line(&text())
    }
}

fn mp4_text(path: &Path, info: &cht_fmp4::Mp4Info) -> String {
    let kind = if info.fragmented {
        format!("fragmented MP4, {} fragments", info.fragments)
    } else {
        "MP4".into()
    };
    let mut out = format!(
        "{}: {kind}, {:.3} s\n",
        path.display(),
        info.duration_seconds
    );
    for t in &info.tracks {
        let detail = match (t.width, t.height, t.sample_rate, t.channels) {
            (Some(w), Some(h), _, _) => format!("{w}x{h}, {} keyframes", t.keyframe_count),
            (_, _, Some(rate), ch) => format!("{rate} Hz, {} ch", ch.unwrap_or(0)),
            _ => String::new(),
        };
        out += &format!(
            "  track {} {:?}: {} {detail}, {} samples, {:.3} s\n",
            t.id, t.kind, t.codec, t.sample_count, t.duration_seconds
        );
    }
    if info.truncated_tail {
        out += &format!(
            "  truncated tail (interrupted recording): everything before it is readable{}\n",
            info.tail_error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
    }
    out.trim_end().to_string()
}

#[derive(Debug, Serialize)]
pub struct TsTrack<C> {
    config: Option<C>,
    frames: u64,
    keyframes: u64,
    first_pts: Option<i64>,
    last_pts: Option<i64>,
    duration_secs: f64,
}

/// What `cht probe` reports of an H.264 track's SPS.
#[derive(Debug, Serialize)]
pub struct H264Summary {
    width: u32,
    height: u32,
    profile_idc: u8,
    constraint_flags: u8,
    level_idc: u8,
    chroma_format_idc: u8,
    bit_depth_luma: u8,
    bit_depth_chroma: u8,
    #[serde(skip)]
    codec_string: String,
}

impl H264Summary {
    fn of(params: &VideoParams) -> Option<H264Summary> {
        let config = AvcDecoderConfig::parse(&params.extra_data).ok()?;
        let sps = config.first_sps()?;
        Some(H264Summary {
            width: params.width,
            height: params.height,
            profile_idc: sps.profile_idc,
            constraint_flags: sps.constraint_flags,
            level_idc: sps.level_idc,
            chroma_format_idc: sps.chroma_format_idc,
            bit_depth_luma: sps.bit_depth_luma,
            bit_depth_chroma: sps.bit_depth_chroma,
            codec_string: params.codec_string(),
        })
    }
}

#[derive(Debug, Serialize)]
pub struct TsInfo {
    format: &'static str,
    video: TsTrack<H264Summary>,
    audio: TsTrack<AacConfig>,
    duration_secs: f64,
    demux: DemuxStats,
}

impl<C> Default for TsTrack<C> {
    fn default() -> Self {
        TsTrack {
            config: None,
            frames: 0,
            keyframes: 0,
            first_pts: None,
            last_pts: None,
            duration_secs: 0.0,
        }
    }
}

impl<C> TsTrack<C> {
    fn add(&mut self, pts: i64, keyframe: bool) {
        self.frames += 1;
        self.keyframes += keyframe as u64;
        self.first_pts = Some(self.first_pts.map_or(pts, |p| p.min(pts)));
        self.last_pts = Some(self.last_pts.map_or(pts, |p| p.max(pts)));
    }

    /// Span of presentation times plus one frame.
    fn finish(&mut self, frame_ticks: f64) {
        if let (Some(a), Some(b)) = (self.first_pts, self.last_pts) {
            self.duration_secs = ((b - a) as f64 + frame_ticks) / CLOCK_HZ as f64;
        }
    }
}

fn probe_ts(path: &Path) -> anyhow::Result<TsInfo> {
    let mut f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut demuxer = TsDemuxer::new();
    let mut video = TsTrack::<H264Summary>::default();
    let mut audio = TsTrack::<AacConfig>::default();
    let mut sink = |item: DemuxItem| match item {
        DemuxItem::VideoParams(p) => {
            video.config = video.config.take().or_else(|| H264Summary::of(&p))
        }
        DemuxItem::AudioParams(p) => audio.config = audio.config.or_else(|| AacConfig::of(&p)),
        DemuxItem::Video(au) => video.add(au.pts, au.keyframe),
        DemuxItem::Audio(fr) => audio.add(fr.pts, true),
        _ => {}
    };
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        demuxer.push(&buf[..n], &mut sink);
    }
    demuxer.finish(&mut sink);
    if video.frames == 0 && audio.frames == 0 {
        bail!(
            "{}: no H.264 video or AAC audio found (not an MPEG-TS file?)",
            path.display()
        );
    }
    let video_frame = match (video.frames, video.first_pts, video.last_pts) {
        (n, Some(a), Some(b)) if n > 1 => (b - a) as f64 / (n - 1) as f64,
        _ => 0.0,
    };
    video.finish(video_frame);
    let audio_frame = audio.config.map_or(0.0, |c| c.frame_duration_90k());
    audio.finish(audio_frame);
    let duration_secs = video.duration_secs.max(audio.duration_secs);
    Ok(TsInfo {
        format: "mpegts",
        video,
        audio,
        duration_secs,
        demux: demuxer.stats().clone(),
    })
}

impl TsInfo {
    fn to_text(&self, path: &Path) -> String {
        let mut out = format!("{}: MPEG-TS, {:.3} s\n", path.display(), self.duration_secs);
        if let Some(v) = &self.video.config {
            out += &format!(
                "  video: H.264 {} {}x{}, {} frames ({} keyframes), {:.3} s\n",
                v.codec_string,
                v.width,
                v.height,
                self.video.frames,
                self.video.keyframes,
                self.video.duration_secs
            );
        }
        if let Some(a) = &self.audio.config {
            out += &format!(
                "  audio: AAC (object type {}) {} Hz, {} ch, {} frames, {:.3} s\n",
                a.object_type,
                a.sample_rate,
                a.channels(),
                self.audio.frames,
                self.audio.duration_secs
            );
        }
        let d = &self.demux;
        out += &format!(
            "  demux: {} packets, {} continuity errors, {} damaged video units, {} garbage bytes skipped",
            d.packets, d.cc_errors, d.damaged_video_units, d.skipped_bytes
        );
        out
    }
}

#[derive(Serialize)]
struct SessionProbe {
    session: PathBuf,
    segments: Vec<serde_json::Value>,
    duration_secs: f64,
}

fn probe_session(dir: &Path, json: bool) -> anyhow::Result<()> {
    let layout = Layout::of_dir(dir);
    let names: Vec<PathBuf> = layout
        .segments()
        .with_context(|| format!("cannot list {}", layout.stream_dir().display()))?
        .into_iter()
        .map(|s| s.path)
        .collect();
    if names.is_empty() {
        bail!(
            "{}: no recording_NNN.mp4 segments",
            layout.stream_dir().display()
        );
    }
    let mut segments = Vec::new();
    let mut total = 0.0;
    let mut text = format!("{}: {} segment(s)\n", dir.display(), names.len());
    for p in &names {
        match cht_fmp4::probe(p) {
            Ok(info) => {
                total += info.duration_seconds;
                text += &format!(
                    "  {}: {:.3} s{}\n",
                    p.display(),
                    info.duration_seconds,
                    if info.truncated_tail {
                        " (truncated tail)"
                    } else {
                        ""
                    }
                );
                segments.push(serde_json::json!({ "path": p, "info": info }));
            }
            Err(e) => {
                text += &format!("  {}: unreadable: {e}\n", p.display());
                segments.push(serde_json::json!({ "path": p, "error": e.to_string() }));
            }
        }
    }
    text += &format!("  total: {total:.3} s");
    let probe = SessionProbe {
        session: dir.to_path_buf(),
        segments,
        duration_secs: total,
    };
    print(&probe, json, || text)
}
