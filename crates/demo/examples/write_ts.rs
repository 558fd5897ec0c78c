//! Writes the demo stream to a file as fast as it can be made, and reports
//! the speed: `cargo run --release -p cht-demo --example write_ts -- demo.ts 10 [1920x1080]`.

use std::io::Write;
use std::time::{Duration, Instant};

use cht_demo::{DemoOptions, DemoSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "demo.ts".into());
    let secs: f64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10.0);
    let mut opts = DemoOptions {
        duration: Some(Duration::from_secs_f64(secs)),
        ..DemoOptions::default()
    };
    if let Some(size) = args.next() {
        let (w, h) = size.split_once('x').ok_or("size must be WxH")?;
        (opts.width, opts.height) = (w.parse()?, h.parse()?);
    }
    let mut source = DemoSource::new(opts)?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let start = Instant::now();
    while let Some((_, chunk)) = source.next_chunk()? {
        file.write_all(&chunk)?;
    }
    file.flush()?;
    let elapsed = start.elapsed().as_secs_f64();
    let stats = source.stats();
    println!(
        "{path}: {} video frames ({} IDR), {} audio frames, {} bytes in {elapsed:.2} s = {:.0} frames/s ({:.2} x real time)",
        stats.video_frames,
        stats.keyframes,
        stats.audio_frames,
        stats.bytes,
        stats.video_frames as f64 / elapsed,
        stats.media_secs / elapsed,
    );
    Ok(())
}
