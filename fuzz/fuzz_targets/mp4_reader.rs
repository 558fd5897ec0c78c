//! Feeds arbitrary bytes to the MP4 reader: `probe_bytes` and a full
//! `Mp4Samples` pass must return values or typed errors, never panic, hang
//! or allocate beyond the input's size.
#![no_main]

use cht_fmp4::{probe_bytes, Mp4Samples};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = probe_bytes(data);
    if let Ok(samples) = Mp4Samples::from_bytes(data) {
        for sample in samples {
            if sample.is_err() {
                break;
            }
        }
    }
});
