//! The initialization segment: `ftyp` + `moov` with empty sample tables and
//! an `mvex` that announces fragments.

use crate::box_writer::{begin_box, begin_full_box, end_box, PutBe};
use crate::movie::TrackKind;
use crate::sample_entry::SampleEntry;

/// Identity transformation matrix of `mvhd`/`tkhd`.
const UNITY_MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// Language code "und" packed as three 5-bit letters.
const LANGUAGE_UND: u16 = 0x55c4;

/// A track as announced in `moov`.
#[derive(Clone, Copy)]
pub(crate) struct TrackDecl<'a> {
    pub id: u32,
    pub entry: &'a dyn SampleEntry,
}

/// Appends `ftyp` + `moov` for the given tracks.
pub(crate) fn write_init_segment(buf: &mut Vec<u8>, tracks: &[TrackDecl]) {
    write_ftyp(buf);
    let moov = begin_box(buf, b"moov");
    write_mvhd(buf, tracks.len() as u32 + 1);
    for track in tracks {
        write_trak(buf, track);
    }
    let mvex = begin_box(buf, b"mvex");
    for track in tracks {
        write_trex(buf, track.id);
    }
    end_box(buf, mvex);
    end_box(buf, moov);
}

fn write_ftyp(buf: &mut Vec<u8>) {
    let ftyp = begin_box(buf, b"ftyp");
    buf.extend_from_slice(b"isom");
    buf.put_u32(0x200);
    for brand in [b"isom", b"iso6", b"iso2", b"avc1", b"mp41"] {
        buf.extend_from_slice(brand);
    }
    end_box(buf, ftyp);
}

fn write_matrix(buf: &mut Vec<u8>) {
    for v in UNITY_MATRIX {
        buf.put_u32(v);
    }
}

fn write_mvhd(buf: &mut Vec<u8>, next_track_id: u32) {
    let mvhd = begin_full_box(buf, b"mvhd", 0, 0);
    buf.put_u32(0); // creation_time
    buf.put_u32(0); // modification_time
    buf.put_u32(1000); // timescale
    buf.put_u32(0); // duration: unknown up front, fragments carry the samples
    buf.put_u32(0x0001_0000); // rate 1.0
    buf.put_u16(0x0100); // volume 1.0
    buf.put_zeros(10);
    write_matrix(buf);
    buf.put_zeros(24); // pre_defined
    buf.put_u32(next_track_id);
    end_box(buf, mvhd);
}

fn write_trak(buf: &mut Vec<u8>, track: &TrackDecl) {
    let trak = begin_box(buf, b"trak");
    write_tkhd(buf, track);
    let mdia = begin_box(buf, b"mdia");
    write_mdhd(buf, track.entry.timescale());
    write_hdlr(buf, track.entry.kind());
    let minf = begin_box(buf, b"minf");
    match track.entry.kind() {
        TrackKind::Video => {
            let vmhd = begin_full_box(buf, b"vmhd", 0, 1);
            buf.put_zeros(8); // graphicsmode, opcolor
            end_box(buf, vmhd);
        }
        TrackKind::Audio | TrackKind::Other => {
            let smhd = begin_full_box(buf, b"smhd", 0, 0);
            buf.put_zeros(4); // balance, reserved
            end_box(buf, smhd);
        }
    }
    write_dinf(buf);
    write_empty_stbl(buf, track);
    end_box(buf, minf);
    end_box(buf, mdia);
    end_box(buf, trak);
}

fn write_tkhd(buf: &mut Vec<u8>, track: &TrackDecl) {
    let tkhd = begin_full_box(buf, b"tkhd", 0, 0x3); // enabled, in movie
    buf.put_u32(0);
    buf.put_u32(0);
    buf.put_u32(track.id);
    buf.put_u32(0); // reserved
    buf.put_u32(0); // duration
    buf.put_zeros(8);
    buf.put_u16(0); // layer
    buf.put_u16(0); // alternate_group
    let volume = match track.entry.kind() {
        TrackKind::Audio => 0x0100,
        TrackKind::Video | TrackKind::Other => 0,
    };
    let (width, height) = track.entry.size();
    buf.put_u16(volume);
    buf.put_u16(0);
    write_matrix(buf);
    buf.put_u32(width.min(0xffff) << 16);
    buf.put_u32(height.min(0xffff) << 16);
    end_box(buf, tkhd);
}

fn write_mdhd(buf: &mut Vec<u8>, timescale: u32) {
    let mdhd = begin_full_box(buf, b"mdhd", 0, 0);
    buf.put_u32(0);
    buf.put_u32(0);
    buf.put_u32(timescale);
    buf.put_u32(0);
    buf.put_u16(LANGUAGE_UND);
    buf.put_u16(0);
    end_box(buf, mdhd);
}

fn write_hdlr(buf: &mut Vec<u8>, kind: TrackKind) {
    let (handler, name): (&[u8; 4], &[u8]) = match kind {
        TrackKind::Video => (b"vide", b"VideoHandler\0"),
        TrackKind::Audio | TrackKind::Other => (b"soun", b"SoundHandler\0"),
    };
    let hdlr = begin_full_box(buf, b"hdlr", 0, 0);
    buf.put_u32(0); // pre_defined
    buf.extend_from_slice(handler);
    buf.put_zeros(12);
    buf.extend_from_slice(name);
    end_box(buf, hdlr);
}

fn write_dinf(buf: &mut Vec<u8>) {
    let dinf = begin_box(buf, b"dinf");
    let dref = begin_full_box(buf, b"dref", 0, 0);
    buf.put_u32(1);
    let url = begin_full_box(buf, b"url ", 0, 1); // media is in this file
    end_box(buf, url);
    end_box(buf, dref);
    end_box(buf, dinf);
}

fn write_empty_stbl(buf: &mut Vec<u8>, track: &TrackDecl) {
    let stbl = begin_box(buf, b"stbl");
    let stsd = begin_full_box(buf, b"stsd", 0, 0);
    buf.put_u32(1);
    track.entry.write(buf, track.id);
    end_box(buf, stsd);
    for fourcc in [b"stts", b"stsc", b"stco"] {
        let b = begin_full_box(buf, fourcc, 0, 0);
        buf.put_u32(0); // entry_count
        end_box(buf, b);
    }
    let stsz = begin_full_box(buf, b"stsz", 0, 0);
    buf.put_u32(0); // sample_size
    buf.put_u32(0); // sample_count
    end_box(buf, stsz);
    end_box(buf, stbl);
}

fn write_trex(buf: &mut Vec<u8>, track_id: u32) {
    let trex = begin_full_box(buf, b"trex", 0, 0);
    buf.put_u32(track_id);
    buf.put_u32(1); // default_sample_description_index
    buf.put_u32(0); // default_sample_duration: every trun says
    buf.put_u32(0); // default_sample_size
    buf.put_u32(0); // default_sample_flags
    end_box(buf, trex);
}
