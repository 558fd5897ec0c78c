//! `cht probe`: what is in a TS file, an MP4 file or a session.

use crate::cli::ProbeArgs;
use anyhow::{bail, Context};
use cht_core::h264::AvcDecoderConfig;
use cht_core::hevc::HevcDecoderConfig;
use cht_core::mpeg2::SequenceHeader;
use cht_core::{AudioCodec, VideoCodec, VideoParams, CLOCK_HZ};
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

#[derive(Debug, Default, Serialize)]
pub struct TsTrack {
    frames: u64,
    keyframes: u64,
    first_pts: Option<i64>,
    last_pts: Option<i64>,
    duration_secs: f64,
}

impl TsTrack {
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

/// What `cht probe` reports of a video track: its codec and what its
/// parameter sets say (profile, chroma format, bit depth).
#[derive(Debug, Serialize)]
pub struct VideoSummary {
    codec: VideoCodec,
    codec_string: String,
    width: u32,
    height: u32,
    profile: String,
    chroma_format_idc: u8,
    bit_depth_luma: u8,
    #[serde(flatten)]
    track: TsTrack,
}

impl VideoSummary {
    fn of(params: &VideoParams) -> VideoSummary {
        let (profile, chroma_format_idc, bit_depth_luma) = match params.codec {
            VideoCodec::H264 => AvcDecoderConfig::parse(&params.extra_data)
                .ok()
                .and_then(|c| c.first_sps())
                .map(|s| (s.profile_name(), s.chroma_format_idc, s.bit_depth_luma)),
            VideoCodec::Hevc => HevcDecoderConfig::parse(&params.extra_data)
                .ok()
                .and_then(|c| c.first_sps())
                .map(|s| (s.profile_name(), s.chroma_format_idc, s.bit_depth_luma)),
            VideoCodec::Mpeg2Video => SequenceHeader::parse(&params.extra_data)
                .map(|h| (h.profile_name(), h.chroma_format, 8)),
        }
        .unwrap_or(("unknown profile", 0, 0));
        VideoSummary {
            codec: params.codec,
            codec_string: params.codec_string(),
            width: params.width,
            height: params.height,
            profile: profile.to_string(),
            chroma_format_idc,
            bit_depth_luma,
            track: TsTrack::default(),
        }
    }
}

/// What `cht probe` reports of an audio track.
#[derive(Debug, Serialize)]
pub struct AudioSummary {
    track: u8,
    codec: AudioCodec,
    sample_rate: u32,
    channels: u16,
    #[serde(skip)]
    frame_samples: u32,
    #[serde(flatten)]
    frames: TsTrack,
}

#[derive(Debug, Serialize)]
pub struct TsInfo {
    format: &'static str,
    video: Option<VideoSummary>,
    audio: Vec<AudioSummary>,
    /// The streams that are not recorded, each with why and the fix.
    not_recorded: Vec<String>,
    duration_secs: f64,
    demux: DemuxStats,
}

fn probe_ts(path: &Path) -> anyhow::Result<TsInfo> {
    let mut f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut demuxer = TsDemuxer::new();
    let mut video: Option<VideoSummary> = None;
    let mut audio: Vec<AudioSummary> = Vec::new();
    let mut not_recorded: Vec<String> = Vec::new();
    let mut sink = |item: DemuxItem| match item {
        DemuxItem::Tracks(list) => {
            for stream in list.ignored {
                let text = stream.to_string();
                if !not_recorded.contains(&text) {
                    not_recorded.push(text);
                }
            }
        }
        DemuxItem::VideoParams(p) => {
            video.get_or_insert_with(|| VideoSummary::of(&p));
        }
        DemuxItem::AudioParams(p) if !audio.iter().any(|a| a.track == p.track) => {
            audio.push(AudioSummary {
                track: p.track,
                codec: p.codec,
                sample_rate: p.sample_rate,
                channels: p.channels,
                frame_samples: p.frame_samples,
                frames: TsTrack::default(),
            });
        }
        DemuxItem::Video(au) => {
            if let Some(v) = video.as_mut() {
                v.track.add(au.pts, au.keyframe)
            }
        }
        DemuxItem::Audio(fr) => {
            if let Some(a) = audio.iter_mut().find(|a| a.track == fr.track) {
                a.frames.add(fr.pts, true)
            }
        }
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
    let video_frames = video.as_ref().map_or(0, |v| v.track.frames);
    if video_frames == 0 && audio.iter().all(|a| a.frames.frames == 0) {
        let why = if not_recorded.is_empty() {
            "not an MPEG-TS file?".to_string()
        } else {
            not_recorded.join("; ")
        };
        bail!(
            "{}: no video or audio cht records found ({why})",
            path.display()
        );
    }
    if let Some(v) = video.as_mut() {
        let t = &v.track;
        let frame = match (t.frames, t.first_pts, t.last_pts) {
            (n, Some(a), Some(b)) if n > 1 => (b - a) as f64 / (n - 1) as f64,
            _ => 0.0,
        };
        v.track.finish(frame);
    }
    for a in &mut audio {
        let frame =
            f64::from(a.frame_samples) * f64::from(CLOCK_HZ) / f64::from(a.sample_rate.max(1));
        a.frames.finish(frame);
    }
    let duration_secs = audio
        .iter()
        .map(|a| a.frames.duration_secs)
        .chain(video.as_ref().map(|v| v.track.duration_secs))
        .fold(0.0, f64::max);
    Ok(TsInfo {
        format: "mpegts",
        video,
        audio,
        not_recorded,
        duration_secs,
        demux: demuxer.stats().clone(),
    })
}

impl TsInfo {
    fn to_text(&self, path: &Path) -> String {
        let mut out = format!("{}: MPEG-TS, {:.3} s\n", path.display(), self.duration_secs);
        if let Some(v) = &self.video {
            out += &format!(
                "  video: {} {} ({}) {}x{}, {} frames ({} keyframes), {:.3} s\n",
                v.codec,
                v.codec_string,
                v.profile,
                v.width,
                v.height,
                v.track.frames,
                v.track.keyframes,
                v.track.duration_secs
            );
        }
        for a in &self.audio {
            out += &format!(
                "  audio track {}: {} {} Hz, {} ch, {} frames, {:.3} s\n",
                a.track,
                a.codec,
                a.sample_rate,
                a.channels,
                a.frames.frames,
                a.frames.duration_secs
            );
        }
        for stream in &self.not_recorded {
            out += &format!("  not recorded: {stream}\n");
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
