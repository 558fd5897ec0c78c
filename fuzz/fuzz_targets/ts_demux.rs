//! Fuzzes the TS demuxer the way ffmpeg's `target_dem_fuzzer` fuzzes its
//! demuxers: the input's last 8 bytes choose how the rest is cut into reads,
//! so the fuzzer explores both the bytes and the read boundaries. After
//! `finish()` the counters must agree with what the sink received.

#![no_main]
use cht_ts::{DemuxItem, TsDemuxer};
use libfuzzer_sys::fuzz_target;

/// Read sizes from a seed: xorshift64, each size in 1..=max_read, where the
/// seed also picks max_read (1 byte up to 64 KiB) so tiny and large reads both occur.
struct ReadSizes {
    state: u64,
    max_read: usize,
}

impl ReadSizes {
    fn new(seed: u64) -> Self {
        let max_read = 1usize << (seed % 17);
        ReadSizes { state: seed | 1, max_read }
    }

    fn next(&mut self) -> usize {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        1 + (self.state as usize) % self.max_read
    }
}

fuzz_target!(|input: &[u8]| {
    let (data, seed) = match input.len().checked_sub(8) {
        Some(split) => {
            let mut seed = [0u8; 8];
            seed.copy_from_slice(&input[split..]);
            (&input[..split], u64::from_le_bytes(seed))
        }
        None => (input, 0),
    };
    let mut sizes = ReadSizes::new(seed);
    let mut demuxer = TsDemuxer::new();
    let (mut videos, mut audios) = (0u64, 0u64);
    let mut sink = |item: DemuxItem| match item {
        DemuxItem::Video(_) => videos += 1,
        DemuxItem::Audio(_) => audios += 1,
        _ => {}
    };
    let mut rest = data;
    while !rest.is_empty() {
        let n = sizes.next().min(rest.len());
        demuxer.push(&rest[..n], &mut sink);
        rest = &rest[n..];
    }
    demuxer.finish(&mut sink);
    let stats = demuxer.stats();
    assert_eq!(stats.bytes, data.len() as u64);
    assert_eq!((stats.video_units, stats.audio_frames), (videos, audios));
    assert!(stats.skipped_bytes + stats.packets * 188 <= stats.bytes);
});
