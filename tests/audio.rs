//! cht-audio against real audio: the fixture TS (x264 + AAC-LC 48 kHz stereo,
//! muxed by ffmpeg) and a speech recording, with ffmpeg as the independent
//! oracle.
//!
//! `tests/fixtures/speech.aac` (44.1 kHz mono AAC-LC, 23 s) was made with:
//!   espeak-ng -v en-us -s 160 -g 8 -w speech.wav "The quarterly review starts with the
//!     sales numbers for the northern region. Revenue grew by twelve percent compared with
//!     last year. Our team shipped three major features in this period. Customer feedback
//!     on the new dashboard has been very positive. Next we will look at the hiring plan
//!     for the coming months."
//!   ffmpeg -i speech.wav -ar 44100 -ac 1 -c:a aac -b:a 32k -f adts speech.aac

use std::path::{Path, PathBuf};
use std::process::Command;

use cht_audio::{
    decode_whole_track, packets_from_adts, window_rms, AudioError, AudioFormat, AudioOptions,
    AudioPipeline, ChunkInfo,
};
use cht_core::aac::AacConfig;
use cht_core::{AudioCodec, AudioPacket, AudioParams};

/// One AAC track: its parameters and its packets.
struct Track {
    params: AudioParams,
    frames: Vec<AudioPacket>,
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().expect("ffmpeg/ffprobe must be installed");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The fixture's AAC track as ADTS bytes, copied out by ffmpeg.
fn ts_adts() -> Vec<u8> {
    run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(fixture("av_high.ts"))
        .args(["-vn", "-c:a", "copy", "-f", "adts", "-"]))
}

/// `start_pts` of the fixture's (video, audio) streams, 90 kHz.
fn ts_start_pts() -> (i64, i64) {
    let out = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,start_pts",
            "-of",
            "csv=p=0",
        ])
        .arg(fixture("av_high.ts")));
    let text = String::from_utf8_lossy(&out);
    let pts = |kind: &str| -> i64 {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(kind)?
                    .trim_start_matches(',')
                    .trim()
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no {kind} start_pts in {text}"))
    };
    (pts("video"), pts("audio"))
}

/// Frames of the fixture with the PTS a demuxer would give them.
fn ts_frames() -> (i64, Track) {
    let (video_pts, audio_pts) = ts_start_pts();
    let track = packets_from_adts(&ts_adts(), audio_pts);
    assert_eq!(track.framer.bytes_skipped, 0);
    assert!(track.packets.len() > 400, "{} frames", track.packets.len());
    let track = Track {
        params: track.params.expect("AAC"),
        frames: track.packets,
    };
    (video_pts, track)
}

fn speech_frames() -> Track {
    let data = std::fs::read(fixture("speech.aac")).expect("speech fixture");
    let track = packets_from_adts(&data, 0);
    Track {
        params: track.params.expect("AAC"),
        frames: track.packets,
    }
}

fn chunk_all(
    dir: &Path,
    origin: i64,
    params: &AudioParams,
    frames: &[AudioPacket],
    opts: AudioOptions,
) -> Vec<ChunkInfo> {
    let mut pipeline = AudioPipeline::new(dir, 0, origin, opts).expect("pipeline");
    let mut chunks = Vec::new();
    for f in frames {
        chunks.extend(pipeline.push(params, f).expect("push"));
    }
    chunks.extend(pipeline.finish().expect("finish"));
    let stats = pipeline.stats();
    assert_eq!(stats.decode_errors, 0);
    assert_eq!(stats.chunks_written, chunks.len() as u64);
    chunks
}

fn read_wav(path: &Path) -> (cht_audio::hound::WavSpec, Vec<i16>) {
    let mut reader = cht_audio::hound::WavReader::open(path).expect("readable WAV");
    let samples = reader
        .samples::<i16>()
        .collect::<Result<Vec<_>, _>>()
        .expect("samples");
    (reader.spec(), samples)
}

fn concat(chunks: &[ChunkInfo]) -> Vec<i16> {
    chunks.iter().flat_map(|c| read_wav(&c.path).1).collect()
}

fn rms(s: &[i16]) -> f64 {
    (s.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
}

#[test]
fn chunks_concatenate_to_the_whole_track_sample_for_sample() {
    let (origin, track) = ts_frames();
    let (params, frames) = (&track.params, &track.frames);
    for format in [AudioFormat::Speech16kMono, AudioFormat::Source] {
        let dir = tempfile::tempdir().expect("tempdir");
        let audio_dir = dir.path().join("audio");
        let chunks = chunk_all(
            &audio_dir,
            origin,
            params,
            frames,
            AudioOptions {
                chunk_secs: 2,
                format,
            },
        );
        assert!(
            chunks.len() >= 4,
            "{format:?}: only {} chunks",
            chunks.len()
        );

        let whole = decode_whole_track(params, frames, format).expect("whole track");
        let joined = concat(&chunks);
        assert_eq!(joined.len(), whole.samples.len(), "{format:?}: length");
        assert!(
            joined == whole.samples,
            "{format:?}: chunks differ from the one-pass decode"
        );
        let (spec, _) = read_wav(&chunks[0].path);
        assert_eq!(
            (spec.sample_rate, spec.channels),
            (whole.sample_rate, whole.channels)
        );

        // Times: the first chunk starts at the first audio sample (21 ms before
        // the first video frame here), the others where the previous one ended.
        let first_audio = (frames[0].pts - origin) as f64 / 90_000.0;
        assert!(first_audio < 0.0);
        assert_eq!(chunks[0].start, first_audio);
        for pair in chunks.windows(2) {
            assert!((pair[1].start - (pair[0].start + pair[0].duration)).abs() < 1e-9);
            assert!(
                (1.0..=3.0).contains(&pair[0].duration),
                "chunk of {} s",
                pair[0].duration
            );
        }
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(audio_dir.join("index.json")).expect("index"))
                .expect("json");
        let entries = index.as_array().expect("array");
        assert_eq!(entries.len(), chunks.len());
        assert_eq!(entries[1]["id"], "chunk_0001");
        assert_eq!(entries[1]["path"], "audio/chunk_0001.wav");
        assert_eq!(entries[1]["start"].as_f64(), Some(chunks[1].start));
        let leftovers = std::fs::read_dir(&audio_dir)
            .expect("dir")
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().ends_with(".wav"))
            .count();
        assert_eq!(leftovers, 1, "only index.json besides the chunks");
    }
}

/// SNR in dB of `ours[i + lag]` against `reference[i]` over `range`.
fn snr_at(ours: &[i16], reference: &[i16], range: std::ops::Range<usize>, lag: i64) -> f64 {
    let (mut signal, mut noise) = (0.0f64, 0.0f64);
    for i in range {
        let Some(&o) = usize::try_from(i as i64 + lag)
            .ok()
            .and_then(|j| ours.get(j))
        else {
            continue;
        };
        let r = reference[i] as f64;
        signal += r * r;
        noise += (r - o as f64).powi(2);
    }
    10.0 * (signal / noise.max(1e-9)).log10()
}

#[test]
fn matches_an_ffmpeg_decode_of_the_same_stream() {
    let (origin, track) = ts_frames();
    let (params, frames) = (&track.params, &track.frames);
    let dir = tempfile::tempdir().expect("tempdir");
    let chunks = chunk_all(
        dir.path(),
        origin,
        params,
        frames,
        AudioOptions {
            chunk_secs: 3,
            ..Default::default()
        },
    );
    let ours = concat(&chunks);
    let raw = run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(fixture("av_high.ts"))
        .args(["-vn", "-ac", "1", "-ar", "16000", "-f", "s16le", "-"]));
    let theirs: Vec<i16> = raw
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let len_diff = ours.len().abs_diff(theirs.len());
    assert!(
        len_diff <= 1024,
        "ours {} vs ffmpeg {} samples",
        ours.len(),
        theirs.len()
    );
    // Align on two seconds of the middle, then score the whole track.
    let probe = theirs.len() / 2..theirs.len() / 2 + 32_000;
    let lag = (-1024..=1024i64)
        .max_by(|&a, &b| {
            snr_at(&ours, &theirs, probe.clone(), a).total_cmp(&snr_at(
                &ours,
                &theirs,
                probe.clone(),
                b,
            ))
        })
        .unwrap_or(0);
    let snr = snr_at(&ours, &theirs, 0..theirs.len(), lag);
    eprintln!(
        "SNR against ffmpeg: {snr:.1} dB at lag {lag}; lengths {} / {}",
        ours.len(),
        theirs.len()
    );
    assert!(snr >= 30.0, "SNR {snr:.1} dB at lag {lag}");
}

#[test]
fn chunk_boundaries_fall_in_quiet_windows_of_speech() {
    let track = speech_frames();
    let (params, frames) = (&track.params, &track.frames);
    let dir = tempfile::tempdir().expect("tempdir");
    let chunk_secs = 4;
    let chunks = chunk_all(
        dir.path(),
        0,
        params,
        frames,
        AudioOptions {
            chunk_secs,
            ..Default::default()
        },
    );
    let pcm = concat(&chunks);
    eprintln!(
        "chunks: {:?}",
        chunks
            .iter()
            .map(|c| (c.start, c.duration))
            .collect::<Vec<_>>()
    );
    assert!(chunks.len() >= 5, "{} chunks", chunks.len());
    let speech_rms = rms(&pcm);
    assert!(speech_rms > 1000.0, "fixture too quiet: {speech_rms}");

    let window = 1600; // 100 ms at 16 kHz
    let mut boundary = 0usize;
    let mut loud_nominal_points = 0;
    for c in &chunks[..chunks.len() - 1] {
        let nominal = boundary + chunk_secs as usize * 16_000;
        boundary += c.frames as usize;
        let at_cut = window_rms(&pcm, 1, boundary, window);
        eprintln!(
            "cut at {:.3} s (nominal {:.3} s): window RMS {at_cut:.0} vs speech {speech_rms:.0}, nominal window {:.0}",
            boundary as f64 / 16e3,
            nominal as f64 / 16e3,
            window_rms(&pcm, 1, nominal, window)
        );
        assert!(
            at_cut < speech_rms / 20.0,
            "cut at {boundary} is not quiet: {at_cut}"
        );
        assert!(
            boundary.abs_diff(nominal) <= 16_000,
            "cut moved more than 1 s"
        );
        if window_rms(&pcm, 1, nominal, window) > speech_rms / 4.0 {
            loud_nominal_points += 1;
        }
    }
    // A fixed-length cutter would have cut these words in half.
    assert!(
        loud_nominal_points >= 1,
        "fixture gives no case where moving the cut matters"
    );
}

#[test]
fn a_part_file_flushed_mid_chunk_is_playable() {
    let (origin, track) = ts_frames();
    let (params, frames) = (&track.params, &track.frames);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pipeline =
        AudioPipeline::new(dir.path(), 0, origin, AudioOptions::default()).expect("pipeline");
    // About 4 s of audio: well inside the first 10 s chunk.
    for f in &frames[..190] {
        assert!(pipeline.push(params, f).expect("push").is_empty());
    }
    let part = dir.path().join("chunk_0000.wav.part");
    assert!(part.exists());
    assert!(!dir.path().join("chunk_0000.wav").exists());
    // A crash: no destructor runs, nothing more is written.
    std::mem::forget(pipeline);

    let (spec, samples) = read_wav(&part);
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (16_000, 1, 16)
    );
    assert!(
        samples.len() >= 2 * 16_000,
        "only {} samples flushed",
        samples.len()
    );
    let whole = decode_whole_track(params, frames, AudioFormat::Speech16kMono).expect("whole");
    assert!(
        samples[..] == whole.samples[..samples.len()],
        "flushed samples differ from the decode"
    );

    let probed = run(Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,sample_rate,duration",
            "-of",
            "csv=p=0",
        ])
        .arg(&part));
    let text = String::from_utf8_lossy(&probed);
    let fields: Vec<&str> = text.trim().split(',').collect();
    assert_eq!(fields[..2], ["pcm_s16le", "16000"], "ffprobe: {text}");
    let secs: f64 = fields[2].parse().expect("duration");
    assert!(
        (secs - samples.len() as f64 / 16e3).abs() < 1e-3,
        "ffprobe says {secs} s"
    );
}

#[test]
fn lost_and_damaged_frames_become_silence_on_time() {
    let (origin, track) = ts_frames();
    let (params, frames) = (&track.params, &track.frames);
    let mut damaged: Vec<AudioPacket> = frames.clone();
    damaged.drain(200..210); // 10 frames lost in transit
    damaged[300].data = damaged[300].data.slice(..3); // a frame cut short
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pipeline =
        AudioPipeline::new(dir.path(), 0, origin, AudioOptions::default()).expect("pipeline");
    let mut chunks = Vec::new();
    for f in &damaged {
        chunks.extend(pipeline.push(params, f).expect("push"));
    }
    chunks.extend(pipeline.finish().expect("finish"));
    let stats = pipeline.stats();
    assert_eq!(
        (stats.gaps, stats.gap_frames, stats.decode_errors),
        (1, 10, 1),
        "{stats:?}"
    );

    // Same length as the undamaged track: later audio is not pulled earlier.
    let pcm = concat(&chunks);
    let whole = decode_whole_track(params, frames, AudioFormat::Speech16kMono).expect("whole");
    assert_eq!(pcm.len(), whole.samples.len());
    let gap = 200 * 1024 / 3..210 * 1024 / 3;
    let inner = gap.start + 200..gap.end - 200;
    assert!(
        rms(&whole.samples[inner.clone()]) > 100.0,
        "fixture is silent there anyway"
    );
    assert!(rms(&pcm[inner]) < 1.0, "gap is not silent");
    // After the gap, the audio is where it belongs: it matches the undamaged
    // decode at lag 0 (not bit for bit: AAC noise substitution draws from a
    // generator that the lost frames no longer advanced), and not one frame off.
    let after = 250 * 1024 / 3..290 * 1024 / 3;
    let aligned = snr_at(&pcm, &whole.samples, after.clone(), 0);
    let one_frame_off = snr_at(&pcm, &whole.samples, after.clone(), 341).max(snr_at(
        &pcm,
        &whole.samples,
        after,
        -341,
    ));
    assert!(
        aligned > 30.0 && aligned > one_frame_off + 20.0,
        "{aligned:.1} dB aligned, {one_frame_off:.1} dB a frame off"
    );
}

#[test]
fn unsupported_audio_is_reported_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pipeline =
        AudioPipeline::new(dir.path(), 0, 0, AudioOptions::default()).expect("pipeline");
    let he_aac = AacConfig {
        object_type: 5,
        sampling_index: 3,
        sample_rate: 48000,
        channel_config: 2,
    }
    .audio_params();
    let frame = |pts| AudioPacket {
        track: 0,
        pts,
        samples: 1024,
        data: vec![0xff; 64].into(),
    };
    let first = pipeline.push(&he_aac, &frame(0));
    assert!(
        matches!(
            first,
            Err(AudioError::UnsupportedCodec { object_type: 5, .. })
        ),
        "{first:?}"
    );
    for i in 1..20 {
        assert!(pipeline
            .push(&he_aac, &frame(i * 1920))
            .expect("later frames are skipped quietly")
            .is_empty());
    }
    assert!(pipeline.finish().expect("finish").is_empty());
    assert_eq!(pipeline.stats().frames_unsupported, 20);

    // A codec nothing here decodes is refused the same way, by name, with
    // the fix.
    let ac3 = AudioParams {
        track: 0,
        codec: AudioCodec::Ac3,
        sample_rate: 48000,
        channels: 2,
        frame_samples: 1536,
        extra_data: Default::default(),
    };
    let first = pipeline.push(&ac3, &frame(0));
    assert!(
        matches!(first, Err(AudioError::NoDecoder(AudioCodec::Ac3))),
        "{first:?}"
    );
    let message = first.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("`-c:a aac`"), "{message}");
    assert!(pipeline
        .push(&ac3, &frame(2880))
        .expect("quietly")
        .is_empty());
    assert_eq!(pipeline.stats().frames_unsupported, 22);
}

#[test]
fn a_resumed_session_continues_numbering() {
    let track = speech_frames();
    let (params, frames) = (&track.params, &track.frames);
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = AudioOptions {
        chunk_secs: 5,
        ..Default::default()
    };
    let first = chunk_all(dir.path(), 0, params, &frames[..300], opts);
    let second = chunk_all(dir.path(), 0, params, &frames[300..], opts);
    let numbers: Vec<u32> = first.iter().chain(&second).map(|c| c.number).collect();
    assert_eq!(numbers, (0..numbers.len() as u32).collect::<Vec<_>>());
    // The second run starts where its first frame is on the clock.
    assert!((second[0].start - frames[300].pts as f64 / 90_000.0).abs() < 1e-9);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).expect("index"))
            .expect("json");
    assert_eq!(index.as_array().map(Vec::len), Some(numbers.len()));
}

/// Decodes the audio of a TS with our demuxer and decoder (source layout),
/// and with ffmpeg; returns (ours, ffmpeg's), interleaved in each one's
/// channel order, and the channel count.
fn decode_both(ts: &[u8]) -> (Vec<i16>, Vec<i16>, usize) {
    let demuxed = cht_ts::demux_all(ts);
    let params = demuxed
        .items
        .iter()
        .find_map(|i| match i {
            cht_core::DemuxItem::AudioParams(p) => Some(p.clone()),
            _ => None,
        })
        .expect("audio parameters");
    let frames: Vec<AudioPacket> = demuxed
        .items
        .into_iter()
        .filter_map(|i| match i {
            cht_core::DemuxItem::Audio(p) => Some(p),
            _ => None,
        })
        .collect();
    let ours = decode_whole_track(&params, &frames, AudioFormat::Source).expect("decodes");
    assert_eq!(ours.decode_errors, 0, "{:?}", params.codec);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("in.ts");
    std::fs::write(&path, ts).expect("write");
    let raw = run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "s16le", "-"]));
    let theirs = raw
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    (ours.samples, theirs, usize::from(ours.channels))
}

/// One channel of interleaved PCM.
fn channel(pcm: &[i16], channels: usize, index: usize) -> Vec<i16> {
    pcm.iter().skip(index).step_by(channels).copied().collect()
}

/// The best SNR of `ours` against `theirs` within `max_lag` samples.
fn best_snr(ours: &[i16], theirs: &[i16], max_lag: i64) -> f64 {
    let range = 0..theirs.len().min(ours.len());
    (-max_lag..=max_lag)
        .map(|lag| snr_at(ours, theirs, range.clone(), lag))
        .fold(f64::MIN, f64::max)
}

fn ffmpeg_ts(audio: &[&str]) -> Vec<u8> {
    run(Command::new("ffmpeg")
        .args(["-v", "error"])
        .args(audio)
        .args(["-t", "2", "-f", "mpegts", "-"]))
}

#[test]
fn multichannel_aac_matches_ffmpeg_channel_by_channel() {
    // A different tone in each of the six channels.
    let tones: Vec<String> = [200, 300, 500, 700, 1100, 60]
        .iter()
        .enumerate()
        .map(|(i, f)| format!("sine=frequency={f}:sample_rate=48000[c{i}]"))
        .collect();
    let graph = format!(
        "{};[c0][c1][c2][c3][c4][c5]join=inputs=6:channel_layout=5.1[a]",
        tones.join(";")
    );
    let ts = ffmpeg_ts(&[
        "-filter_complex",
        &graph,
        "-map",
        "[a]",
        "-c:a",
        "aac",
        "-b:a",
        "384k",
    ]);
    let (ours, theirs, channels) = decode_both(&ts);
    assert_eq!(channels, 6);
    assert_eq!(ours.len(), theirs.len(), "same length");
    // Ours is in AAC's element order (C, L, R, Ls, Rs, LFE), ffmpeg's in
    // its own (FL, FR, FC, LFE, BL/SL, BR/SR).
    for (mine, ffmpeg) in [(0, 2), (1, 0), (2, 1), (3, 4), (4, 5), (5, 3)] {
        let snr = best_snr(&channel(&ours, 6, mine), &channel(&theirs, 6, ffmpeg), 0);
        assert!(snr >= 40.0, "channel {mine}: {snr:.1} dB against ffmpeg's");
    }
}

#[test]
fn mpeg_audio_matches_ffmpeg() {
    let tone = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"];
    // ffmpeg's default MP2 (mono, 384 kbit/s), and LAME's stereo MP3.
    let cases: [&[&str]; 2] = [
        &["-c:a", "mp2"],
        &["-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k"],
    ];
    for codec in cases {
        let args: Vec<&str> = tone.iter().chain(codec).copied().collect();
        let (ours, theirs, channels) = decode_both(&ffmpeg_ts(&args));
        assert!(
            ours.len().abs_diff(theirs.len()) <= 1152 * channels,
            "{codec:?}"
        );
        for c in 0..channels {
            let snr = best_snr(
                &channel(&ours, channels, c),
                &channel(&theirs, channels, c),
                0,
            );
            assert!(snr >= 40.0, "{codec:?} channel {c}: {snr:.1} dB");
        }
    }
}

#[test]
fn aac_layouts_in_a_program_config_element_match_ffmpeg_channel_by_channel() {
    // ffmpeg's encoder describes 2.1 and 6.1, which have no AAC channel
    // configuration, with a program config element in the first frame.
    let freqs = [200, 300, 500, 700, 1100, 1300, 1700];
    for (layout, channels) in [("2.1", 3), ("6.1", 7)] {
        let tones: Vec<String> = freqs[..channels]
            .iter()
            .enumerate()
            .map(|(i, f)| format!("sine=frequency={f}:sample_rate=48000[c{i}]"))
            .collect();
        let inputs: String = (0..channels).map(|i| format!("[c{i}]")).collect();
        let graph = format!(
            "{};{inputs}join=inputs={channels}:channel_layout={layout}[a]",
            tones.join(";")
        );
        let ts = ffmpeg_ts(&[
            "-filter_complex",
            &graph,
            "-map",
            "[a]",
            "-c:a",
            "aac",
            "-b:a",
            "384k",
        ]);
        let (ours, theirs, decoded) = decode_both(&ts);
        assert_eq!(decoded, channels, "{layout}");
        assert_eq!(ours.len(), theirs.len(), "{layout}: same length");
        // Both decoders give the channels in the order of the elements.
        for c in 0..channels {
            let snr = best_snr(
                &channel(&ours, channels, c),
                &channel(&theirs, channels, c),
                0,
            );
            assert!(
                snr >= 40.0,
                "{layout} channel {c}: {snr:.1} dB against ffmpeg's"
            );
        }
    }
}

#[test]
fn aac_joined_after_its_program_config_element_is_named() {
    // The layout of ffmpeg's 2.1 is in the first frame only: a stream
    // joined half-way has no channel count, which is said, with the fix.
    let ts = ffmpeg_ts(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-ac",
        "3",
        "-c:a",
        "aac",
    ]);
    let whole = first_audio_params(&ts);
    assert_eq!(whole.channels, 3);
    cht_audio::AudioFrameDecoder::for_params(&whole).expect("2.1 from the start decodes");
    let half = ts.len() / 2 / 188 * 188;
    let joined = first_audio_params(&ts[half..]);
    assert_eq!(joined.channels, 0, "the layout is unknown");
    let err = cht_audio::AudioFrameDecoder::for_params(&joined)
        .err()
        .expect("refused");
    assert!(matches!(err, AudioError::LayoutMissed), "{err}");
    assert!(err.is_unsupported_stream());
    assert!(err.to_string().contains("`-ac 2` or `-ac 6`"), "{err}");
}

fn first_audio_params(ts: &[u8]) -> AudioParams {
    cht_ts::demux_all(ts)
        .items
        .into_iter()
        .find_map(|i| match i {
            cht_core::DemuxItem::AudioParams(p) => Some(p),
            _ => None,
        })
        .expect("audio parameters")
}
