//! One movie fragment in progress: per-track runs of committed samples, and
//! their serialisation as one `moof` + `mdat`.

use crate::box_writer::{begin_box, begin_full_box, end_box, patch_u32, PutBe};

/// `sample_depends_on` = 2: decodable on its own (keyframes, all AAC frames).
pub(crate) const SAMPLE_FLAGS_SYNC: u32 = 0x0200_0000;
/// `sample_depends_on` = 1 and `sample_is_non_sync_sample`.
pub(crate) const SAMPLE_FLAGS_NON_SYNC: u32 = 0x0101_0000;

const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;
const TRUN_DATA_OFFSET: u32 = 0x001;
const TRUN_SAMPLE_DURATION: u32 = 0x100;
const TRUN_SAMPLE_SIZE: u32 = 0x200;
const TRUN_SAMPLE_FLAGS: u32 = 0x400;
const TRUN_COMPOSITION_OFFSET: u32 = 0x800;

/// One `trun` sample record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunEntry {
    pub duration: u32,
    pub size: u32,
    pub flags: u32,
    pub composition_offset: i32,
}

/// The committed samples of one track in the fragment being built.
///
/// `payload` holds their bytes, followed by the bytes of the one sample the
/// writer holds back until its duration is known; that tail survives a cut.
#[derive(Debug)]
pub(crate) struct TrackRun {
    pub track_id: u32,
    with_composition_offsets: bool,
    entries: Vec<RunEntry>,
    payload: Vec<u8>,
    committed_bytes: usize,
    first_position: i64,
    duration: u64,
}

impl TrackRun {
    pub(crate) fn new(track_id: u32, with_composition_offsets: bool) -> Self {
        TrackRun {
            track_id,
            with_composition_offsets,
            entries: Vec::new(),
            payload: Vec::new(),
            committed_bytes: 0,
            first_position: 0,
            duration: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn sample_count(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn first_flags(&self) -> Option<u32> {
        self.entries.first().map(|e| e.flags)
    }

    /// Sum of committed durations, in track units.
    pub(crate) fn duration(&self) -> u64 {
        self.duration
    }

    /// Timeline position of the first committed sample.
    pub(crate) fn first_position(&self) -> i64 {
        self.first_position
    }

    /// Buffered bytes, the held-back sample included.
    pub(crate) fn buffered_bytes(&self) -> usize {
        self.payload.len()
    }

    /// Where the next (held-back) sample's bytes are appended.
    pub(crate) fn payload_mut(&mut self) -> &mut Vec<u8> {
        &mut self.payload
    }

    /// Commits the held-back sample, whose bytes are already in `payload`.
    pub(crate) fn commit(&mut self, position: i64, entry: RunEntry) {
        if self.entries.is_empty() {
            self.first_position = position;
        }
        self.committed_bytes += entry.size as usize;
        self.duration += u64::from(entry.duration);
        self.entries.push(entry);
    }

    /// Forgets what was written, keeping the held-back sample's bytes.
    pub(crate) fn clear_committed(&mut self) {
        self.payload.drain(..self.committed_bytes);
        self.committed_bytes = 0;
        self.entries.clear();
        self.duration = 0;
    }

    pub(crate) fn committed_payload(&self) -> &[u8] {
        &self.payload[..self.committed_bytes]
    }
}

/// Serialises `moof` + `mdat` for the non-empty runs into `buf` (cleared
/// first). `runs` pairs each run with its `tfdt` base media decode time.
pub(crate) fn write_fragment(buf: &mut Vec<u8>, sequence: u32, runs: &[(&TrackRun, u64)]) {
    buf.clear();
    let moof = begin_box(buf, b"moof");
    let mfhd = begin_full_box(buf, b"mfhd", 0, 0);
    buf.put_u32(sequence);
    end_box(buf, mfhd);
    let mut data_offset_slots = [0usize; 8];
    let runs = &runs[..runs.len().min(data_offset_slots.len())];
    for (slot, (run, base_decode_time)) in data_offset_slots.iter_mut().zip(runs) {
        *slot = write_traf(buf, run, *base_decode_time);
    }
    end_box(buf, moof);
    let moof_len = buf.len();
    let payload_len: usize = runs.iter().map(|(r, _)| r.committed_bytes).sum();
    let mdat_header_len = write_mdat_header(buf, payload_len);
    let mut data_offset = moof_len + mdat_header_len;
    for (slot, (run, _)) in data_offset_slots.iter().zip(runs) {
        // Offsets are relative to the moof start (default-base-is-moof);
        // fragments are capped far below 2 GiB.
        patch_u32(buf, *slot, data_offset as u32);
        data_offset += run.committed_bytes;
    }
}

/// Writes one `traf`; returns where its `trun` data offset must be patched.
fn write_traf(buf: &mut Vec<u8>, run: &TrackRun, base_decode_time: u64) -> usize {
    let traf = begin_box(buf, b"traf");
    let tfhd = begin_full_box(buf, b"tfhd", 0, TFHD_DEFAULT_BASE_IS_MOOF);
    buf.put_u32(run.track_id);
    end_box(buf, tfhd);
    let tfdt = begin_full_box(buf, b"tfdt", 1, 0);
    buf.put_u64(base_decode_time);
    end_box(buf, tfdt);
    let mut flags = TRUN_DATA_OFFSET | TRUN_SAMPLE_DURATION | TRUN_SAMPLE_SIZE | TRUN_SAMPLE_FLAGS;
    if run.with_composition_offsets {
        flags |= TRUN_COMPOSITION_OFFSET;
    }
    // Version 1 makes composition offsets signed; only needed when negative.
    let version = u8::from(run.entries.iter().any(|e| e.composition_offset < 0));
    let trun = begin_full_box(buf, b"trun", version, flags);
    buf.put_u32(run.entries.len() as u32);
    let data_offset_slot = buf.len();
    buf.put_u32(0);
    for e in &run.entries {
        buf.put_u32(e.duration);
        buf.put_u32(e.size);
        buf.put_u32(e.flags);
        if run.with_composition_offsets {
            buf.put_i32(e.composition_offset);
        }
    }
    end_box(buf, trun);
    end_box(buf, traf);
    data_offset_slot
}

fn write_mdat_header(buf: &mut Vec<u8>, payload_len: usize) -> usize {
    let size = payload_len as u64 + 8;
    if let Ok(size) = u32::try_from(size) {
        buf.put_u32(size);
        buf.extend_from_slice(b"mdat");
        8
    } else {
        buf.put_u32(1);
        buf.extend_from_slice(b"mdat");
        buf.put_u64(payload_len as u64 + 16);
        16
    }
}
