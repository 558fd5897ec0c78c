//! Reading one `moof`: its track fragments become sample references with
//! absolute file offsets and decode times.

use crate::box_reader::{child_boxes, find_child, FieldReader};
use crate::error::Fmp4Error;
use crate::movie::{Movie, SampleDefaults};
use crate::sample_table::SampleRef;

const TFHD_BASE_DATA_OFFSET: u32 = 0x01;
const TFHD_SAMPLE_DESCRIPTION_INDEX: u32 = 0x02;
const TFHD_DEFAULT_DURATION: u32 = 0x08;
const TFHD_DEFAULT_SIZE: u32 = 0x10;
const TFHD_DEFAULT_FLAGS: u32 = 0x20;
const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;

const TRUN_DATA_OFFSET: u32 = 0x001;
const TRUN_FIRST_SAMPLE_FLAGS: u32 = 0x004;
const TRUN_DURATION: u32 = 0x100;
const TRUN_SIZE: u32 = 0x200;
const TRUN_FLAGS: u32 = 0x400;
const TRUN_COMPOSITION_OFFSET: u32 = 0x800;

/// `sample_is_non_sync_sample` in the sample flags.
const SAMPLE_IS_NON_SYNC: u32 = 0x0001_0000;

/// The samples of one `moof`, and where each track's decode time ends.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParsedFragment {
    pub samples: Vec<SampleRef>,
    /// (track index, decode time after its last sample).
    pub track_ends: Vec<(usize, i64)>,
    /// Some sample data would lie past `file_len`: the fragment is not
    /// complete (yet). `samples` may then be partial.
    pub beyond_end: bool,
}

struct TrackFragmentHeader {
    track_id: u32,
    base_data_offset: Option<u64>,
    default_base_is_moof: bool,
    defaults: SampleDefaults,
}

/// Parses a `moof` payload found at `moof_start`. `next_dts` holds, per
/// track, the decode time where the previous fragment ended (used when a
/// `traf` has no `tfdt`).
pub(crate) fn parse_moof(
    payload: &[u8],
    moof_start: u64,
    movie: &Movie,
    next_dts: &[i64],
    file_len: u64,
) -> Result<ParsedFragment, Fmp4Error> {
    let mut out = ParsedFragment::default();
    // Without explicit bases, each traf's data follows the previous one's.
    let mut implicit_base = moof_start;
    for (fourcc, traf) in child_boxes(payload) {
        if &fourcc != b"traf" {
            continue;
        }
        let tfhd =
            find_child(traf, b"tfhd").ok_or_else(|| Fmp4Error::malformed(b"traf", "no tfhd"))?;
        let Some(header) = parse_tfhd(tfhd, movie)? else {
            continue;
        };
        let Some(track) = movie.track_index(header.track_id) else {
            continue;
        };
        let base = match header.base_data_offset {
            Some(b) => b,
            None if header.default_base_is_moof => moof_start,
            None => implicit_base,
        };
        let mut dts = match find_child(traf, b"tfdt") {
            Some(tfdt) => parse_tfdt(tfdt)?,
            None => next_dts.get(track).copied().unwrap_or(0),
        };
        let mut data_cursor = base;
        for (kind, trun) in child_boxes(traf) {
            if &kind == b"trun" {
                let run = TrackRunContext {
                    track,
                    base,
                    defaults: header.defaults,
                    file_len,
                };
                parse_trun(trun, &run, &mut dts, &mut data_cursor, &mut out)?;
                if out.beyond_end {
                    return Ok(out);
                }
            }
        }
        implicit_base = data_cursor;
        out.track_ends.push((track, dts));
    }
    Ok(out)
}

fn parse_tfhd(tfhd: &[u8], movie: &Movie) -> Result<Option<TrackFragmentHeader>, Fmp4Error> {
    let mut r = FieldReader::new(*b"tfhd", tfhd);
    let (_, flags) = r.full_box_header()?;
    let track_id = r.u32()?;
    let Some(track) = movie.track_index(track_id) else {
        return Ok(None);
    };
    let mut defaults = movie.tracks[track].defaults;
    let base_data_offset = if flags & TFHD_BASE_DATA_OFFSET != 0 {
        Some(r.u64()?)
    } else {
        None
    };
    if flags & TFHD_SAMPLE_DESCRIPTION_INDEX != 0 {
        r.u32()?;
    }
    if flags & TFHD_DEFAULT_DURATION != 0 {
        defaults.duration = r.u32()?;
    }
    if flags & TFHD_DEFAULT_SIZE != 0 {
        defaults.size = r.u32()?;
    }
    if flags & TFHD_DEFAULT_FLAGS != 0 {
        defaults.flags = r.u32()?;
    }
    Ok(Some(TrackFragmentHeader {
        track_id,
        base_data_offset,
        default_base_is_moof: flags & TFHD_DEFAULT_BASE_IS_MOOF != 0,
        defaults,
    }))
}

fn parse_tfdt(tfdt: &[u8]) -> Result<i64, Fmp4Error> {
    let mut r = FieldReader::new(*b"tfdt", tfdt);
    let (version, _) = r.full_box_header()?;
    let t = r.u32_or_u64(version)?;
    i64::try_from(t).map_err(|_| Fmp4Error::malformed(b"tfdt", "decode time out of range"))
}

struct TrackRunContext {
    track: usize,
    base: u64,
    defaults: SampleDefaults,
    file_len: u64,
}

fn parse_trun(
    trun: &[u8],
    ctx: &TrackRunContext,
    dts: &mut i64,
    data_cursor: &mut u64,
    out: &mut ParsedFragment,
) -> Result<(), Fmp4Error> {
    let mut r = FieldReader::new(*b"trun", trun);
    let (version, flags) = r.full_box_header()?;
    let count = r.u32()?;
    if flags & TRUN_DATA_OFFSET != 0 {
        let offset = i64::from(r.i32()?);
        *data_cursor = ctx
            .base
            .checked_add_signed(offset)
            .ok_or_else(|| Fmp4Error::malformed(b"trun", "data offset before the file start"))?;
    }
    let first_flags = if flags & TRUN_FIRST_SAMPLE_FLAGS != 0 {
        Some(r.u32()?)
    } else {
        None
    };
    let fields = [
        TRUN_DURATION,
        TRUN_SIZE,
        TRUN_FLAGS,
        TRUN_COMPOSITION_OFFSET,
    ];
    let entry_len = 4 * fields.iter().filter(|&&f| flags & f != 0).count();
    check_run_fits(count, entry_len, &r, ctx, *data_cursor, out)?;
    if out.beyond_end {
        return Ok(());
    }
    for i in 0..count {
        let duration = if flags & TRUN_DURATION != 0 {
            r.u32()?
        } else {
            ctx.defaults.duration
        };
        let size = if flags & TRUN_SIZE != 0 {
            r.u32()?
        } else {
            ctx.defaults.size
        };
        let sample_flags = if flags & TRUN_FLAGS != 0 {
            r.u32()?
        } else {
            first_flags.filter(|_| i == 0).unwrap_or(ctx.defaults.flags)
        };
        let composition_offset = if flags & TRUN_COMPOSITION_OFFSET == 0 {
            0
        } else if version == 0 {
            i64::from(r.u32()?)
        } else {
            i64::from(r.i32()?)
        };
        out.samples.push(SampleRef {
            track: ctx.track,
            dts: *dts,
            composition_offset,
            duration,
            size,
            offset: *data_cursor,
            keyframe: sample_flags & SAMPLE_IS_NON_SYNC == 0,
        });
        *data_cursor = data_cursor.saturating_add(u64::from(size));
        *dts = dts.saturating_add(i64::from(duration));
    }
    Ok(())
}

/// Refuses sample counts the box or the file cannot back, before any
/// allocation: per-sample records must be in the box; default-sized
/// samples must fit in the file.
fn check_run_fits(
    count: u32,
    entry_len: usize,
    r: &FieldReader,
    ctx: &TrackRunContext,
    data_cursor: u64,
    out: &mut ParsedFragment,
) -> Result<(), Fmp4Error> {
    if let Some(records_in_box) = r.remaining().checked_div(entry_len) {
        if count as usize > records_in_box {
            return Err(Fmp4Error::malformed(b"trun", "more samples than records"));
        }
        return Ok(());
    }
    if count > 0 && ctx.defaults.size == 0 {
        return Err(Fmp4Error::malformed(b"trun", "samples without any size"));
    }
    let bytes = u64::from(count) * u64::from(ctx.defaults.size);
    if data_cursor.saturating_add(bytes) > ctx.file_len {
        out.beyond_end = true;
    }
    Ok(())
}
