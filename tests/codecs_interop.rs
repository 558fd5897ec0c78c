//! Every codec and track a real sender sends is recorded or named.
//!
//! ffmpeg and GStreamer send 3 s of `testsrc2` + sine tones to `cht record`
//! over TCP, each with another codec or layout, and keep a copy of exactly
//! what they sent (ffmpeg's `tee` muxer, GStreamer's `tee` element). Then,
//! for every case:
//! - ffprobe counts, track by track, the packets of the recording and of
//!   what was sent: every recordable track must be there, whole;
//! - ffmpeg decodes the recording without one error;
//! - the audio chunks cover the decodable audio (their total duration is
//!   the source's within two codec frames), or the log says once, with the
//!   fix, why the audio cannot be chunked;
//! - scene frames exist for H.264 4:2:0, and for everything openh264 cannot
//!   decode the log says once what to change;
//! - a stream cht cannot record is named once with the fix.

// Tests, benchmarks and examples may unwrap: a panic is how they fail.
#![allow(clippy::unwrap_used)]

use cht_suite::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const SECONDS: &str = "3";
const VIDEO_IN: [&str; 4] = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"];
const TONE_48K: [&str; 4] = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"];
const TONE_44K: [&str; 4] = ["-f", "lavfi", "-i", "sine=frequency=660:sample_rate=44100"];

/// What a sender sent and what cht made of it.
struct Outcome {
    _tmp: tempfile::TempDir,
    /// The bytes the sender sent, as a file.
    sent: PathBuf,
    session: PathBuf,
    log: String,
}

impl Outcome {
    fn segment(&self) -> PathBuf {
        self.session.join("stream/recording_000.mp4")
    }

    fn frames(&self) -> Vec<serde_json::Value> {
        json_array(&self.session.join("frames/index.json"))
    }

    /// Seconds of audio in the chunks.
    fn chunk_seconds(&self) -> f64 {
        let index = self.session.join("audio/index.json");
        if !index.exists() {
            return 0.0;
        }
        json_array(&index)
            .iter()
            .map(|c| c["duration"].as_f64().unwrap())
            .sum()
    }

    /// How often the log says `needle`.
    fn said(&self, needle: &str) -> usize {
        self.log.lines().filter(|l| l.contains(needle)).count()
    }

    /// The checks every case shares; `recordable` filters the sent streams
    /// (by codec name) that the recording must hold.
    fn assert_recorded(&self, recordable: impl Fn(&str) -> bool) {
        let segment = self.segment();
        assert!(segment.is_file(), "no segment; log:\n{}", self.log);
        let sent: Vec<(String, u64)> = stream_packets(&self.sent)
            .into_iter()
            .filter(|(_, codec, _)| recordable(codec))
            .map(|(kind, _, n)| (kind, n))
            .collect();
        let recorded: Vec<(String, u64)> = stream_packets(&segment)
            .into_iter()
            .map(|(kind, _, n)| (kind, n))
            .collect();
        assert_eq!(recorded, sent, "packets per track; log:\n{}", self.log);
        assert!(sent.iter().all(|(_, n)| *n > 0), "{sent:?}");
        assert_eq!(
            ffmpeg_decode_errors(&segment),
            "",
            "ffmpeg reports decode errors"
        );
    }

    /// The chunks hold the source's audio track `track`, within two frames
    /// of `frame_secs`.
    fn assert_chunks_cover(&self, track: usize, frame_secs: f64) {
        let source = decoded_seconds(&self.sent, track);
        let chunks = self.chunk_seconds();
        assert!(
            (chunks - source).abs() <= 2.0 * frame_secs + 1e-3,
            "chunks hold {chunks:.4} s, the source {source:.4} s; log:\n{}",
            self.log
        );
    }

    /// Scene frames were written (H.264 4:2:0 video).
    fn assert_frames(&self) {
        assert!(!self.frames().is_empty(), "no frames; log:\n{}", self.log);
    }

    /// The video was refused for analysis once, naming `what` and the fix,
    /// and no frame was written.
    fn assert_video_refused(&self, what: &str, fix: &str) {
        let lines: Vec<&str> = self
            .log
            .lines()
            .filter(|l| l.contains("unsupported_video") && l.contains(what))
            .collect();
        assert_eq!(lines.len(), 1, "said once; log:\n{}", self.log);
        assert!(lines[0].contains(fix), "{}", lines[0]);
        assert!(self.frames().is_empty(), "frames of undecodable video");
    }
}

fn json_array(path: &Path) -> Vec<serde_json::Value> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

/// (codec_type, codec_name, packets) of every stream, in file order.
fn stream_packets(path: &Path) -> Vec<(String, String, u64)> {
    let (ok, out, err) = run(Command::new("ffprobe")
        .args(["-v", "error", "-count_packets", "-show_entries"])
        .args([
            "stream=codec_type,codec_name,nb_read_packets",
            "-of",
            "json",
        ])
        .arg(path));
    assert!(ok, "ffprobe failed on {}: {err}", path.display());
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    json["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let text = |k: &str| s[k].as_str().unwrap_or_default().to_string();
            let n = text("nb_read_packets").parse().unwrap_or(0);
            (text("codec_type"), text("codec_name"), n)
        })
        .collect()
}

/// Seconds of audio ffmpeg decodes from audio track `track` of `path`.
fn decoded_seconds(path: &Path, track: usize) -> f64 {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-map", &format!("0:a:{track}"), "-ac", "1", "-ar", "16000"])
        .args(["-f", "s16le", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout.len() as f64 / 2.0 / 16000.0
}

/// Root-mean-square level of the chunks' samples, full scale 1.0.
fn chunk_rms(session: &Path) -> f64 {
    let mut sum = 0.0;
    let mut n = 0usize;
    for chunk in json_array(&session.join("audio/index.json")) {
        let path = session.join(chunk["path"].as_str().unwrap());
        let mut reader = cht_audio::hound::WavReader::open(&path).unwrap();
        for s in reader.samples::<i16>() {
            let x = f64::from(s.unwrap()) / 32768.0;
            sum += x * x;
            n += 1;
        }
    }
    (sum / n.max(1) as f64).sqrt()
}

fn only_session(sessions: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(sessions)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.into_iter().next().unwrap()
}

/// Runs `sender` (given the recorder's address and the copy's path) against
/// a `cht record --once` and collects the outcome.
fn record_with(sender: impl FnOnce(&str, &Path) -> Command) -> Outcome {
    record_sent_by(|addr, sent| {
        let out = sender(addr, sent)
            .stdin(Stdio::null())
            .output()
            .expect("run the sender");
        assert!(
            out.status.success(),
            "the sender failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    })
}

/// Runs `send` (given the recorder's address and the path of the copy it
/// must leave of what it sent) against a `cht record --once`.
fn record_sent_by(send: impl FnOnce(&str, &Path)) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    let sessions = tmp.path().join("sessions");
    let sent = tmp.path().join("sent.ts");
    let rec = Recorder::start(&sessions, &["--once", "--relay", "off"]);
    send(&rec.addr, &sent);
    let (status, log) = rec.wait(Duration::from_secs(60));
    assert!(status.success(), "cht record failed:\n{log}");
    Outcome {
        session: only_session(&sessions),
        _tmp: tmp,
        sent,
        log,
    }
}

/// ffmpeg encodes the lavfi inputs with `args` (maps and codecs) and sends
/// MPEG-TS (`mux`: extra mpegts options, `:opt=value`) over TCP, keeping
/// an identical copy.
fn ffmpeg_sends(args: &[&str], mux: &str) -> Outcome {
    record_with(|addr, sent| {
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-nostdin", "-v", "error"])
            .args(args)
            .args(["-t", SECONDS, "-f", "tee"])
            .arg(format!(
                "[f=mpegts{mux}]tcp://{addr}|[f=mpegts{mux}]{}",
                sent.display()
            ));
        cmd
    })
}

/// ffmpeg with the test video and one 48 kHz tone, video and audio codecs
/// as given.
fn ffmpeg_av(video_codec: &[&str], audio_codec: &[&str], mux: &str) -> Outcome {
    let mut args: Vec<&str> = Vec::new();
    args.extend(VIDEO_IN);
    args.extend(TONE_48K);
    args.extend(["-map", "0:v", "-map", "1:a"]);
    args.extend(video_codec);
    args.extend(audio_codec);
    ffmpeg_sends(&args, mux)
}

const X264: [&str; 4] = ["-c:v", "libx264", "-pix_fmt", "yuv420p"];
const AAC_FRAME: f64 = 1024.0 / 48000.0;
const MPA_FRAME: f64 = 1152.0 / 48000.0;

#[test]
fn ffmpeg_default_mp2_audio_is_recorded_and_chunked() {
    // `-c:a mp2` is what `ffmpeg -f mpegts` picks with no codec option
    // (mono in, 384 kbit/s out).
    let o = ffmpeg_av(&X264, &["-c:a", "mp2"], "");
    o.assert_recorded(|_| true);
    o.assert_chunks_cover(0, MPA_FRAME);
    o.assert_frames();
}

#[test]
fn mp3_audio_is_recorded_and_chunked() {
    let o = ffmpeg_av(&X264, &["-c:a", "libmp3lame"], "");
    o.assert_recorded(|_| true);
    o.assert_chunks_cover(0, MPA_FRAME);
}

#[test]
fn latm_aac_is_recorded_and_chunked() {
    let o = ffmpeg_av(&X264, &["-c:a", "aac"], ":mpegts_flags=latm");
    assert_eq!(stream_packets(&o.sent)[1].1, "aac_latm");
    o.assert_recorded(|_| true);
    o.assert_chunks_cover(0, AAC_FRAME);
}

#[test]
fn ac3_is_recorded_and_the_chunks_say_what_to_send() {
    let o = ffmpeg_av(&X264, &["-c:a", "ac3"], "");
    o.assert_recorded(|_| true);
    assert_eq!(o.chunk_seconds(), 0.0);
    let refusal = "AC-3 audio cannot be decoded into chunks";
    assert_eq!(o.said(refusal), 1, "said once; log:\n{}", o.log);
    assert!(o.log.contains("chunks need AAC or MP3") && o.log.contains("`-c:a aac`"));
    o.assert_frames();
}

#[test]
fn opus_is_recorded_and_the_chunks_say_what_to_send() {
    let o = ffmpeg_av(&X264, &["-c:a", "libopus"], "");
    o.assert_recorded(|_| true);
    assert_eq!(o.chunk_seconds(), 0.0);
    assert_eq!(
        o.said("Opus audio cannot be decoded into chunks"),
        1,
        "log:\n{}",
        o.log
    );
}

/// ffmpeg sends the tone through `pan` (a layout and where the tone goes)
/// as AAC (in LATM with `mux` = `:mpegts_flags=latm`); the recording holds
/// every packet and the speech chunks hold the tone at `weight` of its
/// level.
fn aac_layout_is_chunked_at(pan: &str, mux: &str, weight: f64) {
    let graph = format!("[1:a]pan={pan}[a]");
    let mut args: Vec<&str> = Vec::new();
    args.extend(VIDEO_IN);
    args.extend(TONE_48K);
    args.extend(["-filter_complex", &graph]);
    args.extend(["-map", "0:v", "-map", "[a]"]);
    args.extend(X264);
    args.extend(["-c:a", "aac", "-b:a", "256k"]);
    let o = ffmpeg_sends(&args, mux);
    o.assert_recorded(|_| true);
    o.assert_chunks_cover(0, AAC_FRAME);
    // ffmpeg's sine is at 1/8 of full scale: RMS 0.0884.
    let level = |rms: f64| rms / (0.125 / 2f64.sqrt());
    let rms = chunk_rms(&o.session);
    assert!(
        (level(rms) - weight).abs() < 0.03,
        "{pan}{mux}: speech level {rms:.4}, expected {weight:.3} of the tone's"
    );
    // The recording alone (its AudioSpecificConfig) gives the same chunks.
    let again = o.session.join("from_the_recording");
    let (ok, _, err) = run(Command::new(cht_bin())
        .arg("analyze")
        .arg(o.segment())
        .arg("--out")
        .arg(&again));
    assert!(ok, "{pan}{mux}: cht analyze of the recording: {err}");
    let rms = chunk_rms(&again);
    assert!(
        (level(rms) - weight).abs() < 0.03,
        "{pan}{mux} from the recording: speech level {rms:.4}"
    );
}

#[test]
fn aac_5_1_is_chunked_with_the_centre_channel_speech() {
    // Speech lives in the centre channel: a tone only there must come
    // through the speech downmix at the centre's weight, not diluted by
    // six (a plain average) or lost. ITU downmix weight of the centre,
    // normalised: 1 / (1 + 2 x 0.707 + 2 x 0.5).
    aac_layout_is_chunked_at(
        "5.1|FC=c0",
        "",
        1.0 / (1.0 + std::f64::consts::SQRT_2 + 1.0),
    );
}

#[test]
fn aac_with_a_program_config_element_is_chunked() {
    // 2.1 and 6.1 have no AAC channel configuration: ffmpeg describes them
    // with a program config element: in ADTS in the first frame only, in
    // LATM inside the AudioSpecificConfig.
    for mux in ["", ":mpegts_flags=latm"] {
        // 2.1: two fronts at 0.707 and the LFE dropped, normalised to 0.5
        // each.
        aac_layout_is_chunked_at("2.1|FL=c0|FR=c0", mux, 1.0);
        // 6.1 as ffmpeg's encoder lays it out: a front pair, the centre,
        // four more single or paired channels (surrounds at 0.5).
        aac_layout_is_chunked_at(
            "6.1|FC=c0",
            mux,
            1.0 / (1.0 + std::f64::consts::SQRT_2 + 2.0),
        );
    }
}

#[test]
fn two_audio_tracks_are_both_recorded() {
    let mut args: Vec<&str> = Vec::new();
    args.extend(VIDEO_IN);
    args.extend(TONE_48K);
    args.extend(TONE_44K);
    args.extend(["-map", "0:v", "-map", "1:a", "-map", "2:a"]);
    args.extend(X264);
    args.extend(["-c:a", "aac"]);
    let o = ffmpeg_sends(&args, "");
    o.assert_recorded(|_| true);
    let recorded = stream_packets(&o.segment());
    assert_eq!(recorded.len(), 3, "{recorded:?}");
    // The chunks come from the first track, and the log says so.
    o.assert_chunks_cover(0, AAC_FRAME);
    assert_eq!(o.said("audio chunks come from track 0"), 1, "{}", o.log);
}

#[test]
fn a_second_program_is_recorded_as_another_audio_track() {
    let o = record_sent_by(|addr, sent| {
        // ffmpeg's tee muxer drops programs: the test sends ffmpeg's bytes.
        let status = Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error"])
            .args(VIDEO_IN)
            .args(TONE_48K)
            .args(TONE_44K)
            .args(["-map", "0:v", "-map", "1:a", "-map", "2:a"])
            .args(X264)
            .args(["-c:a", "aac", "-t", SECONDS])
            .args([
                "-program",
                "title=main:st=0:st=1",
                "-program",
                "title=second:st=2",
            ])
            .args(["-f", "mpegts"])
            .arg(sent)
            .status()
            .unwrap();
        assert!(status.success());
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        std::io::Write::write_all(&mut tcp, &std::fs::read(sent).unwrap()).unwrap();
    });
    let (ok, programs, _) = run(Command::new("ffprobe")
        .args(["-v", "error", "-show_programs", "-of", "json"])
        .arg(&o.sent));
    assert!(ok);
    let programs: serde_json::Value = serde_json::from_str(&programs).unwrap();
    assert_eq!(programs["programs"].as_array().map(Vec::len), Some(2));
    o.assert_recorded(|_| true);
    assert_eq!(stream_packets(&o.segment()).len(), 3);
    o.assert_chunks_cover(0, AAC_FRAME);
}

#[test]
fn hevc_is_recorded_and_its_analysis_refused_once() {
    let o = ffmpeg_av(
        &["-c:v", "libx265", "-x265-params", "log-level=error"],
        &["-c:a", "aac"],
        "",
    );
    o.assert_recorded(|_| true);
    assert_eq!(stream_packets(&o.segment())[0].1, "hevc");
    o.assert_video_refused("HEVC", "`-c:v libx264 -pix_fmt yuv420p`");
    o.assert_chunks_cover(0, AAC_FRAME);
}

#[test]
fn mpeg2_video_is_recorded_and_its_analysis_refused_once() {
    // ffmpeg's defaults for `-f mpegts` with no codec option.
    let o = ffmpeg_av(&["-c:v", "mpeg2video"], &["-c:a", "mp2"], "");
    o.assert_recorded(|_| true);
    assert_eq!(stream_packets(&o.segment())[0].1, "mpeg2video");
    o.assert_video_refused("MPEG-2 video", "`-c:v libx264 -pix_fmt yuv420p`");
    o.assert_chunks_cover(0, MPA_FRAME);
}

#[test]
fn h264_444_and_10_bit_are_recorded_and_their_analysis_refused_once() {
    for pix_fmt in ["yuv444p", "yuv420p10le"] {
        let o = ffmpeg_av(
            &["-c:v", "libx264", "-pix_fmt", pix_fmt],
            &["-c:a", "aac"],
            "",
        );
        o.assert_recorded(|_| true);
        o.assert_video_refused("H.264", "`-pix_fmt yuv420p`");
        o.assert_chunks_cover(0, AAC_FRAME);
    }
}

#[test]
fn m2ts_packets_with_aac_are_recorded_and_chunked() {
    let o = ffmpeg_av(&X264, &["-c:a", "aac"], ":mpegts_m2ts_mode=1");
    let sent = std::fs::read(&o.sent).unwrap();
    assert_eq!(sent.len() % 192, 0, "192-byte packets");
    assert_eq!(
        (sent[4], sent[196]),
        (0x47, 0x47),
        "sync byte after a 4-byte header"
    );
    o.assert_recorded(|_| true);
    o.assert_chunks_cover(0, AAC_FRAME);
    o.assert_frames();
}

#[test]
fn a_stream_that_cannot_be_recorded_is_named_once_with_the_fix() {
    let mut args: Vec<&str> = Vec::new();
    args.extend(VIDEO_IN);
    args.extend(TONE_48K);
    args.extend(TONE_48K);
    args.extend(["-map", "0:v", "-map", "1:a", "-map", "2:a"]);
    args.extend(X264);
    args.extend([
        "-c:a:0", "aac", "-c:a:1", "dca", "-ac:a:1", "2", "-strict", "-2",
    ]);
    let o = ffmpeg_sends(&args, "");
    o.assert_recorded(|codec| codec != "dts");
    let named: Vec<&str> = o
        .log
        .lines()
        .filter(|l| l.contains("track_not_recorded"))
        .collect();
    assert_eq!(named.len(), 1, "log:\n{}", o.log);
    assert!(
        named[0].contains("DTS audio") && named[0].contains("`-c:a aac`"),
        "{}",
        named[0]
    );
    o.assert_chunks_cover(0, AAC_FRAME);
}

/// GStreamer sends `video ! mpegtsmux` with `audio` muxed in, through a
/// `tee` to `tcpclientsink` and a file.
fn gstreamer_sends(video: &str, audio: &str) -> Outcome {
    record_with(|addr, sent| {
        let (host, port) = addr.rsplit_once(':').unwrap();
        let pipeline = format!(
            "videotestsrc num-buffers=75 ! video/x-raw,format=I420,width=320,height=240,framerate=25/1 \
             ! {video} ! mpegtsmux name=m ! tee name=t ! queue ! tcpclientsink host={host} port={port} \
             t. ! queue ! filesink location={} \
             audiotestsrc num-buffers=141 samplesperbuffer=1024 ! audio/x-raw,rate=48000,channels=1 \
             ! audioconvert ! {audio} ! m.",
            sent.display()
        );
        let mut cmd = Command::new("gst-launch-1.0");
        cmd.arg("-q").arg("-e").args(pipeline.split_whitespace());
        cmd
    })
}

#[test]
fn gstreamer_x264enc_with_aac() {
    let o = gstreamer_sends("x264enc ! h264parse", "voaacenc ! aacparse");
    o.assert_recorded(|_| true);
    o.assert_frames();
    o.assert_chunks_cover(0, AAC_FRAME);
}

#[test]
fn gstreamer_openh264enc_with_lamemp3enc() {
    let o = gstreamer_sends("openh264enc ! h264parse", "lamemp3enc ! mpegaudioparse");
    o.assert_recorded(|_| true);
    o.assert_frames();
    o.assert_chunks_cover(0, MPA_FRAME);
}

#[test]
fn gstreamer_x265enc_with_lamemp3enc() {
    let o = gstreamer_sends("x265enc ! h265parse", "lamemp3enc ! mpegaudioparse");
    o.assert_recorded(|_| true);
    o.assert_video_refused("HEVC", "`-c:v libx264 -pix_fmt yuv420p`");
    o.assert_chunks_cover(0, MPA_FRAME);
}

#[test]
fn analyze_fails_with_the_reason_when_nothing_can_be_analysed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let ffmpeg = |out: &str, args: &[&str]| {
        let status = Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error"])
            .args(VIDEO_IN)
            .args(["-t", "1"])
            .args(args)
            .arg(dir.join(out))
            .status()
            .unwrap();
        assert!(status.success(), "{out}");
    };
    ffmpeg(
        "hevc.ts",
        &["-c:v", "libx265", "-x265-params", "log-level=error"],
    );
    ffmpeg("mpeg2.ts", &["-c:v", "mpeg2video", "-f", "mpegts"]);
    ffmpeg("h264.mkv", &["-c:v", "libx264", "-pix_fmt", "yuv420p"]);
    ffmpeg("image.png", &["-frames:v", "1"]);
    std::fs::write(dir.join("notes.txt"), "not media at all\n".repeat(500)).unwrap();
    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join("noise.bin"), noise).unwrap();
    let cases = [
        ("hevc.ts", "HEVC cannot be decoded for scene frames"),
        (
            "mpeg2.ts",
            "MPEG-2 video cannot be decoded for scene frames",
        ),
        ("h264.mkv", "Matroska"),
        ("image.png", "no audio or video cht can read"),
        ("notes.txt", "no audio or video cht can read"),
        ("noise.bin", "no audio or video cht can read"),
    ];
    for (file, reason) in cases {
        let (ok, _, err) = run(Command::new(cht_bin())
            .arg("analyze")
            .arg(dir.join(file))
            .arg("--out")
            .arg(dir.join(format!("{file}.out"))));
        assert!(!ok, "{file}: cht analyze succeeded");
        assert!(err.contains(reason), "{file}: {err}");
    }
}
