//! Timeline thresholds of the demuxer's items (the items themselves are
//! `cht_core`'s, shared with every other reader).

/// A timestamp step larger than this (90 kHz ticks, 5 s) is reported as a jump.
pub(crate) const PTS_JUMP_TICKS: i64 = 5 * cht_core::CLOCK_HZ as i64;
