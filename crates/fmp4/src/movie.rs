//! The `moov` box as the reader needs it: one [`TrackMeta`] per track with
//! its codec, timescale, progressive sample table and fragment defaults.

use serde::Serialize;

use crate::box_reader::{child_boxes, find_child, FieldReader};
use crate::codec_config::{parse_stsd, SampleEntryInfo};
use crate::error::Fmp4Error;
use crate::sample_table::SampleTable;

/// What a track carries, from its `hdlr` handler type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TrackKind {
    /// A `vide` track.
    Video,
    /// A `soun` track.
    Audio,
    /// Any other handler (subtitles, metadata, ...).
    Other,
}

/// Sample defaults from `trex` (overridden per fragment by `tfhd`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SampleDefaults {
    pub duration: u32,
    pub size: u32,
    pub flags: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct TrackMeta {
    pub id: u32,
    pub kind: TrackKind,
    pub timescale: u32,
    pub entry: SampleEntryInfo,
    pub table: SampleTable,
    pub defaults: SampleDefaults,
}

/// The parsed `moov`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Movie {
    pub tracks: Vec<TrackMeta>,
    /// `mvex` is present: samples may follow in movie fragments.
    pub fragmented: bool,
}

impl Movie {
    pub(crate) fn track_index(&self, track_id: u32) -> Option<usize> {
        self.tracks.iter().position(|t| t.id == track_id)
    }
}

/// Parses a `moov` payload. Tracks that make no sense (no timescale,
/// duplicate id, damaged boxes) are left out rather than failing the file.
pub(crate) fn parse_moov(payload: &[u8]) -> Movie {
    let mut movie = Movie::default();
    for (fourcc, body) in child_boxes(payload) {
        match &fourcc {
            b"trak" => {
                if let Ok(Some(track)) = parse_trak(body) {
                    if movie.track_index(track.id).is_none() {
                        movie.tracks.push(track);
                    }
                }
            }
            b"mvex" => {
                movie.fragmented = true;
                for (kind, trex) in child_boxes(body) {
                    if &kind == b"trex" {
                        apply_trex(&mut movie, trex);
                    }
                }
            }
            _ => {}
        }
    }
    movie
}

fn apply_trex(movie: &mut Movie, trex: &[u8]) {
    let mut r = FieldReader::new(*b"trex", trex);
    let parsed = (|| -> Result<(u32, SampleDefaults), Fmp4Error> {
        r.full_box_header()?;
        let track_id = r.u32()?;
        r.u32()?; // default_sample_description_index
        Ok((
            track_id,
            SampleDefaults {
                duration: r.u32()?,
                size: r.u32()?,
                flags: r.u32()?,
            },
        ))
    })();
    if let Ok((track_id, defaults)) = parsed {
        if let Some(i) = movie.track_index(track_id) {
            movie.tracks[i].defaults = defaults;
        }
    }
}

fn parse_trak(trak: &[u8]) -> Result<Option<TrackMeta>, Fmp4Error> {
    let Some(tkhd) = find_child(trak, b"tkhd") else {
        return Ok(None);
    };
    let Some(mdia) = find_child(trak, b"mdia") else {
        return Ok(None);
    };
    let (id, tkhd_size) = parse_tkhd(tkhd)?;
    let timescale = match find_child(mdia, b"mdhd") {
        Some(mdhd) => parse_mdhd_timescale(mdhd)?,
        None => return Ok(None),
    };
    if timescale == 0 || id == 0 {
        return Ok(None);
    }
    let kind = match find_child(mdia, b"hdlr").map(parse_hdlr).transpose()? {
        Some(h) if &h == b"vide" => TrackKind::Video,
        Some(h) if &h == b"soun" => TrackKind::Audio,
        _ => TrackKind::Other,
    };
    let stbl = find_child(mdia, b"minf").and_then(|m| find_child(m, b"stbl"));
    let mut entry = match stbl.and_then(|s| find_child(s, b"stsd")) {
        Some(stsd) => parse_stsd(stsd).unwrap_or_default(),
        None => SampleEntryInfo::default(),
    };
    if kind == TrackKind::Video && entry.width.unwrap_or(0) == 0 {
        (entry.width, entry.height) = (Some(tkhd_size.0), Some(tkhd_size.1));
    }
    let table = stbl
        .map(SampleTable::parse)
        .transpose()?
        .unwrap_or_default();
    Ok(Some(TrackMeta {
        id,
        kind,
        timescale,
        entry,
        table,
        defaults: SampleDefaults::default(),
    }))
}

/// Track id and the presentation size (integer part of the 16.16 fields).
fn parse_tkhd(tkhd: &[u8]) -> Result<(u32, (u32, u32)), Fmp4Error> {
    let mut r = FieldReader::new(*b"tkhd", tkhd);
    let (version, _) = r.full_box_header()?;
    r.u32_or_u64(version)?; // creation_time
    r.u32_or_u64(version)?; // modification_time
    let id = r.u32()?;
    r.u32()?; // reserved
    r.u32_or_u64(version)?; // duration
    r.skip(8 + 2 + 2 + 2 + 2 + 36)?;
    let width = r.u32()? >> 16;
    let height = r.u32()? >> 16;
    Ok((id, (width, height)))
}

fn parse_mdhd_timescale(mdhd: &[u8]) -> Result<u32, Fmp4Error> {
    let mut r = FieldReader::new(*b"mdhd", mdhd);
    let (version, _) = r.full_box_header()?;
    r.u32_or_u64(version)?;
    r.u32_or_u64(version)?;
    r.u32()
}

fn parse_hdlr(hdlr: &[u8]) -> Result<[u8; 4], Fmp4Error> {
    let mut r = FieldReader::new(*b"hdlr", hdlr);
    r.full_box_header()?;
    r.u32()?; // pre_defined
    r.fourcc()
}
