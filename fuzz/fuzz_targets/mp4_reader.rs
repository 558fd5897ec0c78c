//! Feeds arbitrary bytes to the MP4 reader: `probe_bytes` and a full
//! `Mp4Demuxer` pass (samples and codec parameters) must return values or
//! typed errors, never panic, hang or allocate beyond the input's size.
#![no_main]

use cht_fmp4::{probe_bytes, Mp4Demuxer, Mp4Samples};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = probe_bytes(data);
    if let Ok(samples) = Mp4Samples::from_bytes(data) {
        for item in Mp4Demuxer::new(samples) {
            if item.is_err() {
                break;
            }
        }
    }
});
