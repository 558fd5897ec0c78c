//! AAC decode + downmix + resample to 16 kHz mono, in × real time on one core.
//!
//! Inputs: the fixture TS's AAC track (48 kHz stereo, extracted with ffmpeg)
//! and the speech fixture (44.1 kHz mono). `decode_resample` is the CPU work
//! alone; `pipeline` adds chunking and WAV writing to a temp directory.
//! After criterion, a plain timing prints the real-time factor.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use cht_audio::{decode_whole_track, packets_from_adts, AudioFormat, AudioOptions, AudioPipeline};
use cht_core::{AudioPacket, AudioParams};
use criterion::{Criterion, Throughput};

struct Input {
    name: &'static str,
    params: AudioParams,
    frames: Vec<AudioPacket>,
    seconds: f64,
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn inputs() -> Vec<Input> {
    let ts_adts = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(fixture("av_high.ts"))
        .args(["-vn", "-c:a", "copy", "-f", "adts", "-"])
        .output()
        .expect("ffmpeg is needed to extract the fixture's AAC")
        .stdout;
    let speech = std::fs::read(fixture("speech.aac")).expect("speech fixture");
    [("ts_48k_stereo", ts_adts), ("speech_44k1_mono", speech)]
        .into_iter()
        .map(|(name, bytes)| {
            let track = packets_from_adts(&bytes, 0);
            let params = track.params.expect("an AAC fixture");
            let frames = track.packets;
            let seconds = frames.len() as f64 * 1024.0 / f64::from(params.sample_rate);
            Input {
                name,
                params,
                frames,
                seconds,
            }
        })
        .collect()
}

fn decode_resample(input: &Input) -> usize {
    decode_whole_track(&input.params, &input.frames, AudioFormat::Speech16kMono)
        .map_or(0, |d| d.samples.len())
}

fn pipeline(input: &Input, dir: &Path) -> usize {
    let mut p = AudioPipeline::new(dir, 0, 0, AudioOptions::default()).expect("pipeline");
    let mut chunks = 0;
    for f in &input.frames {
        chunks += p.push(&input.params, f).map_or(0, |c| c.len());
    }
    chunks + p.finish().map_or(0, |c| c.len())
}

fn bench(c: &mut Criterion, inputs: &[Input]) {
    let mut group = c.benchmark_group("audio");
    group.sample_size(10);
    for input in inputs {
        // Throughput in milliseconds of audio: elements/s ÷ 1000 = × real time.
        group.throughput(Throughput::Elements((input.seconds * 1000.0) as u64));
        group.bench_function(format!("decode_resample/{}", input.name), |b| {
            b.iter(|| black_box(decode_resample(input)))
        });
        group.bench_function(format!("pipeline/{}", input.name), |b| {
            b.iter_with_setup(
                || tempfile::tempdir().expect("tempdir"),
                |dir| black_box(pipeline(input, dir.path())),
            )
        });
    }
    group.finish();
}

/// Best of a few runs, as × real time.
fn realtime_factor(input: &Input, run: impl Fn() -> usize) -> f64 {
    let best = (0..5)
        .map(|_| {
            let t = Instant::now();
            black_box(run());
            t.elapsed().as_secs_f64()
        })
        .fold(f64::MAX, f64::min);
    input.seconds / best
}

fn main() {
    let inputs = inputs();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &inputs);
    c.final_summary();
    for input in &inputs {
        let decode = realtime_factor(input, || decode_resample(input));
        let dir = tempfile::tempdir().expect("tempdir");
        let chunked = realtime_factor(input, || pipeline(input, dir.path()));
        println!(
            "{}: {:.1} s of audio; decode+resample {decode:.0}x real time, full pipeline (WAV chunks) {chunked:.0}x",
            input.name, input.seconds
        );
    }
}
