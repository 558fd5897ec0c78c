//! Decode throughput of one Annex-B file (with AUD NAL units, as ffmpeg's
//! `-bsf:v h264_mp4toannexb -f h264` writes them from MPEG-TS input).
//!
//! `cargo run --release -p cht-h264 --example decode_speed -- clip.h264 [--digest]`
//!
//! `--digest` also hashes every decoded pixel (and the hashing is timed
//! too): two decoder builds that print the same digest decoded the file
//! identically.

use std::hash::{DefaultHasher, Hasher};
use std::time::Instant;

use cht_core::h264::{annexb_nals, is_idr_access_unit, nal_type, nal_unit_type};
use cht_core::VideoPacket;
use cht_h264::H264Decoder;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: decode_speed FILE.h264 [--digest]");
    let digest = std::env::args().any(|a| a == "--digest");
    let mut hasher = DefaultHasher::new();
    let stream = std::fs::read(&path).expect("readable file");
    let units = split_at_auds(&stream);
    let mut decoder = H264Decoder::new().expect("openh264");
    let (mut pictures, mut size) = (0usize, (0, 0));
    let start = Instant::now();
    for au in &units {
        decoder
            .decode(au, &mut |p| {
                pictures += 1;
                size = (p.width, p.height);
                if digest {
                    hash_picture(&mut hasher, &p);
                }
            })
            .expect("decoder");
    }
    decoder.flush(&mut |p| {
        pictures += 1;
        if digest {
            hash_picture(&mut hasher, &p);
        }
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{}x{}: {pictures} pictures from {} access units in {:.2} s = {:.0} fps (copy-out included); {:?}",
        size.0,
        size.1,
        units.len(),
        secs,
        pictures as f64 / secs,
        decoder.stats()
    );
    if digest {
        println!("digest of every decoded plane: {:016x}", hasher.finish());
    }
}

fn hash_picture(hasher: &mut DefaultHasher, p: &cht_core::Picture) {
    hasher.write_i64(p.pts);
    for plane in [&p.y, &p.u, &p.v] {
        hasher.write(plane);
    }
}

/// Access units start at AUD NAL units; timestamps are made up (3000 apart).
fn split_at_auds(stream: &[u8]) -> Vec<VideoPacket> {
    let base = stream.as_ptr() as usize;
    let mut starts: Vec<usize> = annexb_nals(stream)
        .filter(|nal| nal_unit_type(nal) == nal_type::AUD)
        .map(|nal| nal.as_ptr() as usize - base - 3)
        .collect();
    starts.push(stream.len());
    starts
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let data = bytes::Bytes::copy_from_slice(&stream[w[0]..w[1]]);
            VideoPacket {
                pts: i as i64 * 3000,
                dts: i as i64 * 3000,
                keyframe: is_idr_access_unit(&data),
                damaged: false,
                data,
            }
        })
        .collect()
}
