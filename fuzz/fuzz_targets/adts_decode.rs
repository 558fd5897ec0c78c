//! Garbage through the ADTS framer and the AAC decoder must never panic.
#![no_main]
use cht_audio::{AacFrameDecoder, AdtsFramer};
use libfuzzer_sys::fuzz_target;

/// Decodes every frame the framer has ready, rebuilding the decoder when the
/// stream's configuration changes (unsupported ones are simply refused).
fn drain(framer: &mut AdtsFramer, decoder: &mut Option<AacFrameDecoder>) {
    while let Some(frame) = framer.next_frame() {
        let config = frame.header.config;
        if decoder.as_ref().map(|d| d.config()) != Some(config) {
            *decoder = AacFrameDecoder::for_params(&frame.params()).ok();
        }
        if let Some(d) = decoder.as_mut() {
            let _ = d.decode_packet(&frame.into_packet(0));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks where the input is split in two pushes, so frames
    // straddling buffers are exercised too.
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = split as usize * rest.len() / 255;
    let mut framer = AdtsFramer::new();
    let mut decoder = None;
    framer.push(&rest[..cut]);
    drain(&mut framer, &mut decoder);
    framer.push(&rest[cut..]);
    framer.finish();
    drain(&mut framer, &mut decoder);
});
