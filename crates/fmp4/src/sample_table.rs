//! Progressive MP4 sample tables (`stbl`) and a cursor that walks them
//! sample by sample without expanding them into per-sample arrays.

use crate::box_reader::{child_boxes, FieldReader};
use crate::error::Fmp4Error;

/// One sample's place in time and in the file, whichever layout it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SampleRef {
    /// Index of the track in the reader's track list.
    pub track: usize,
    pub dts: i64,
    pub composition_offset: i64,
    pub duration: u32,
    pub size: u32,
    pub offset: u64,
    pub keyframe: bool,
}

impl SampleRef {
    pub(crate) fn data_end(&self) -> u64 {
        self.offset.saturating_add(u64::from(self.size))
    }
}

/// The raw tables of one track. Every vector grows only as entries are
/// actually read from the box, so its size is bounded by the file.
#[derive(Debug, Clone, Default)]
pub(crate) struct SampleTable {
    time_to_sample: Vec<(u32, u32)>,
    composition_offsets: Vec<(u32, i64)>,
    /// (first chunk, 1-based; samples per chunk).
    sample_to_chunk: Vec<(u32, u32)>,
    constant_size: u32,
    declared_count: u32,
    sizes: Vec<u32>,
    chunk_offsets: Vec<u64>,
    /// 1-based sync sample numbers; `None` means every sample is sync.
    sync_samples: Option<Vec<u32>>,
}

impl SampleTable {
    pub(crate) fn parse(stbl: &[u8]) -> Result<Self, Fmp4Error> {
        let mut table = SampleTable::default();
        for (fourcc, payload) in child_boxes(stbl) {
            let mut r = FieldReader::new(fourcc, payload);
            match &fourcc {
                b"stts" => table.time_to_sample = read_pairs(&mut r, |r| Ok((r.u32()?, r.u32()?)))?,
                b"ctts" => {
                    let version = r.full_box_header()?.0;
                    table.composition_offsets = read_entries(&mut r, |r| {
                        let count = r.u32()?;
                        let raw = r.u32()?;
                        let offset = if version == 1 {
                            i64::from(raw as i32)
                        } else {
                            i64::from(raw)
                        };
                        Ok((count, offset))
                    })?;
                }
                b"stsc" => {
                    table.sample_to_chunk = read_pairs(&mut r, |r| {
                        let first_chunk = r.u32()?;
                        let per_chunk = r.u32()?;
                        r.u32()?; // sample_description_index
                        Ok((first_chunk, per_chunk))
                    })?
                }
                b"stsz" => {
                    r.full_box_header()?;
                    table.constant_size = r.u32()?;
                    table.declared_count = r.u32()?;
                    if table.constant_size == 0 {
                        table.sizes = read_n(&mut r, table.declared_count, |r| r.u32())?;
                    }
                }
                b"stco" => table.chunk_offsets = read_pairs(&mut r, |r| r.u32().map(u64::from))?,
                b"co64" => table.chunk_offsets = read_pairs(&mut r, |r| r.u64())?,
                b"stss" => table.sync_samples = Some(read_pairs(&mut r, |r| r.u32())?),
                _ => {}
            }
        }
        Ok(table)
    }

    /// Samples the tables describe. With a constant sample size the count is
    /// capped by what `file_len` bytes could hold.
    pub(crate) fn sample_count(&self, file_len: u64) -> u32 {
        if self.constant_size == 0 {
            self.sizes.len() as u32
        } else {
            let fits = file_len / u64::from(self.constant_size);
            self.declared_count
                .min(u32::try_from(fits).unwrap_or(u32::MAX))
        }
    }
}

/// Reads a full box header, an entry count and that many entries.
fn read_pairs<'a, T>(
    r: &mut FieldReader<'a>,
    entry: impl FnMut(&mut FieldReader<'a>) -> Result<T, Fmp4Error>,
) -> Result<Vec<T>, Fmp4Error> {
    r.full_box_header()?;
    read_entries(r, entry)
}

fn read_entries<'a, T>(
    r: &mut FieldReader<'a>,
    entry: impl FnMut(&mut FieldReader<'a>) -> Result<T, Fmp4Error>,
) -> Result<Vec<T>, Fmp4Error> {
    let count = r.u32()?;
    read_n(r, count, entry)
}

/// Reads `count` entries; a count larger than the box can hold ends in a
/// typed error after reading what is there, never in a huge allocation.
fn read_n<'a, T>(
    r: &mut FieldReader<'a>,
    count: u32,
    mut entry: impl FnMut(&mut FieldReader<'a>) -> Result<T, Fmp4Error>,
) -> Result<Vec<T>, Fmp4Error> {
    let mut out = Vec::new();
    for _ in 0..count {
        out.push(entry(r)?);
    }
    Ok(out)
}

/// Walks a [`SampleTable`] in decode order.
#[derive(Debug, Clone, Default)]
pub(crate) struct TableCursor {
    index: u32,
    count: u32,
    dts: i64,
    stts_entry: usize,
    stts_left: u32,
    last_delta: u32,
    ctts_entry: usize,
    ctts_left: u32,
    stsc_entry: usize,
    chunk: usize,
    left_in_chunk: u32,
    offset: u64,
    sync_entry: usize,
}

impl TableCursor {
    pub(crate) fn new(table: &SampleTable, file_len: u64) -> Self {
        TableCursor {
            count: table.sample_count(file_len),
            chunk: usize::MAX,
            ..Default::default()
        }
    }

    /// The next sample of `table` (which must be the table given to `new`).
    pub(crate) fn next_sample(&mut self, table: &SampleTable, track: usize) -> Option<SampleRef> {
        if self.index >= self.count || !self.enter_chunk_with_room(table) {
            return None;
        }
        let size = match table.constant_size {
            0 => *table.sizes.get(self.index as usize)?,
            s => s,
        };
        let sample = SampleRef {
            track,
            dts: self.dts,
            composition_offset: self.next_composition_offset(table),
            duration: self.next_duration(table),
            size,
            offset: self.offset,
            keyframe: self.is_sync(table),
        };
        self.offset = self.offset.saturating_add(u64::from(size));
        self.left_in_chunk -= 1;
        self.dts = self.dts.saturating_add(i64::from(sample.duration));
        self.index += 1;
        Some(sample)
    }

    /// Moves to the next chunk that still has samples; false past the last.
    fn enter_chunk_with_room(&mut self, table: &SampleTable) -> bool {
        while self.left_in_chunk == 0 {
            self.chunk = self.chunk.wrapping_add(1);
            let Some(&offset) = table.chunk_offsets.get(self.chunk) else {
                return false;
            };
            let chunk_number = self.chunk as u64 + 1;
            while table
                .sample_to_chunk
                .get(self.stsc_entry + 1)
                .is_some_and(|&(first, _)| u64::from(first) <= chunk_number)
            {
                self.stsc_entry += 1;
            }
            let Some(&(_, per_chunk)) = table.sample_to_chunk.get(self.stsc_entry) else {
                return false;
            };
            self.offset = offset;
            self.left_in_chunk = per_chunk;
        }
        true
    }

    fn next_duration(&mut self, table: &SampleTable) -> u32 {
        while self.stts_left == 0 {
            let Some(&(count, delta)) = table.time_to_sample.get(self.stts_entry) else {
                // Tables shorter than the sample count: repeat the last delta.
                return self.last_delta;
            };
            self.stts_entry += 1;
            self.stts_left = count;
            self.last_delta = delta;
        }
        self.stts_left -= 1;
        self.last_delta
    }

    fn next_composition_offset(&mut self, table: &SampleTable) -> i64 {
        while self.ctts_left == 0 {
            let Some(&(count, _)) = table.composition_offsets.get(self.ctts_entry) else {
                return 0;
            };
            self.ctts_entry += 1;
            self.ctts_left = count;
        }
        self.ctts_left -= 1;
        table
            .composition_offsets
            .get(self.ctts_entry - 1)
            .map_or(0, |&(_, o)| o)
    }

    fn is_sync(&mut self, table: &SampleTable) -> bool {
        let Some(sync) = &table.sync_samples else {
            return true;
        };
        let number = self.index + 1;
        while sync.get(self.sync_entry).is_some_and(|&s| s < number) {
            self.sync_entry += 1;
        }
        sync.get(self.sync_entry) == Some(&number)
    }
}
