//! Where to cut: the middle of the quietest short window near a target.

/// The frame at which to cut `samples` (interleaved, `channels` wide): the
/// centre of the `window`-frame window (100 ms in the pipeline) with the least energy
/// among those centred in `lo..=hi`. Ties go to the centre closest to
/// `target`, so digital silence is cut exactly on time.
///
/// Centres are clamped so that every window lies inside `samples`.
pub fn quietest_cut(
    samples: &[i16],
    channels: usize,
    window: usize,
    lo: usize,
    hi: usize,
    target: usize,
) -> usize {
    let channels = channels.max(1);
    let frames = samples.len() / channels;
    let half = window / 2;
    if frames < window.max(1) {
        return target.min(frames);
    }
    let lo = lo.max(half);
    let hi = hi.min(frames - (window - half));
    if lo > hi {
        return target.clamp(half, frames - (window - half));
    }
    // Energy prefix sums over the region the candidate windows cover.
    let first = lo - half;
    let last = hi - half + window;
    let mut prefix = Vec::with_capacity(last - first + 1);
    prefix.push(0u64);
    let mut acc = 0u64;
    for frame in samples[first * channels..last * channels].chunks_exact(channels) {
        acc += frame
            .iter()
            .map(|&s| (s as i64 * s as i64) as u64)
            .sum::<u64>();
        prefix.push(acc);
    }
    let energy = |centre: usize| {
        let start = centre - half - first;
        prefix[start + window] - prefix[start]
    };
    (lo..=hi)
        .min_by_key(|&c| (energy(c), c.abs_diff(target)))
        .unwrap_or(target)
}

/// Root-mean-square of the `window` frames centred on `centre` (tests and
/// diagnostics).
pub fn window_rms(samples: &[i16], channels: usize, centre: usize, window: usize) -> f64 {
    let frames = samples.len() / channels.max(1);
    let start = centre.saturating_sub(window / 2).min(frames);
    let end = (start + window).min(frames);
    let slice = &samples[start * channels..end * channels];
    if slice.is_empty() {
        return 0.0;
    }
    (slice.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / slice.len() as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_in_the_middle_of_the_quiet_gap() {
        // Loud everywhere except frames 600..900.
        let mut s = vec![10_000i16; 2000];
        s[600..900].iter_mut().for_each(|x| *x = 0);
        let cut = quietest_cut(&s, 1, 100, 200, 1800, 1000);
        assert!((650..=850).contains(&cut), "cut at {cut}");
        assert_eq!(window_rms(&s, 1, cut, 100), 0.0);
        // Of the equally silent centres, the one nearest the target wins.
        assert_eq!(cut, 850);
    }

    #[test]
    fn silence_is_cut_on_target_and_stereo_counts_both_channels() {
        assert_eq!(quietest_cut(&[0i16; 4000], 2, 100, 100, 1900, 1234), 1234);
        let mut s = vec![0i16; 4000];
        // Right channel loud around frame 500: that window must be avoided.
        for f in 450..550 {
            s[f * 2 + 1] = 20_000;
        }
        let cut = quietest_cut(&s, 2, 100, 400, 600, 500);
        assert!(cut == 400 || cut == 600, "cut at {cut}");
        assert_eq!(window_rms(&s, 2, cut, 100), 0.0);
    }

    #[test]
    fn out_of_range_bounds_are_clamped() {
        let s = vec![1i16; 300];
        let cut = quietest_cut(&s, 1, 100, 0, 10_000, 5000);
        assert!((50..=250).contains(&cut));
        assert_eq!(quietest_cut(&s[..50], 1, 100, 0, 40, 20), 20);
    }
}
