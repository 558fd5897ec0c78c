//! Sample-level conversions: channel downmix and float → 16-bit.

/// Averages interleaved channels into mono, appending to `out`.
pub(crate) fn downmix_to_mono(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    if channels <= 1 {
        out.extend_from_slice(interleaved);
        return;
    }
    let scale = 1.0 / channels as f32;
    out.extend(
        interleaved
            .chunks_exact(channels)
            .map(|f| f.iter().sum::<f32>() * scale),
    );
}

/// Mixes interleaved channels into mono with one weight per channel
/// (`weights.len()` channels), appending to `out`.
pub(crate) fn downmix_weighted(interleaved: &[f32], weights: &[f32], out: &mut Vec<f32>) {
    match weights {
        [] | [_] => out.extend_from_slice(interleaved),
        // Stereo stays the plain average (bit-exact with earlier chunks).
        [_, _] => downmix_to_mono(interleaved, 2, out),
        _ => out.extend(
            interleaved
                .chunks_exact(weights.len())
                .map(|f| f.iter().zip(weights).map(|(s, w)| s * w).sum::<f32>()),
        ),
    }
}

/// Full-scale float to 16-bit, rounded and clipped (the convention ffmpeg
/// uses, so both sides of the interop test quantise alike).
pub(crate) fn f32_to_i16(x: f32) -> i16 {
    (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

pub(crate) fn extend_i16(src: &[f32], out: &mut Vec<i16>) {
    out.extend(src.iter().map(|&x| f32_to_i16(x)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downmix_averages_and_conversion_clips() {
        let mut mono = Vec::new();
        downmix_to_mono(&[0.5, -0.5, 1.0, 0.0], 2, &mut mono);
        assert_eq!(mono, vec![0.0, 0.5]);
        mono.clear();
        // 3.0: the centre weighs most.
        downmix_weighted(
            &[1.0, 0.0, 0.0, 0.0, 1.0, 1.0],
            &[0.5, 0.25, 0.25],
            &mut mono,
        );
        assert_eq!(mono, vec![0.5, 0.5]);
        assert_eq!(f32_to_i16(1.5), 32767);
        assert_eq!(f32_to_i16(-1.0), -32768);
        assert_eq!(f32_to_i16(0.5), 16384);
    }
}
