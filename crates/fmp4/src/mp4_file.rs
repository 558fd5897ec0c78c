//! Walking an MP4 file box by box: find `moov`, then hand out the samples
//! of each complete movie fragment. Only box headers, `moov` and `moof` are
//! read; sample data is read on request.

use std::io::{Read, Seek, SeekFrom};

use crate::box_reader::{read_box_header, read_payload, HeaderRead};
use crate::error::Fmp4Error;
use crate::movie::{parse_moov, Movie};
use crate::movie_fragment::parse_moof;
use crate::sample_table::SampleRef;

pub(crate) struct Mp4File<R> {
    src: R,
    pub movie: Movie,
    file_len: u64,
    /// Offset of the next top-level box to look at for fragments.
    next_box: u64,
    /// Per track: decode time where the last fragment ended.
    next_dts: Vec<i64>,
    /// The last scan stopped at data that is incomplete or unreadable.
    pub truncated_tail: bool,
    /// `moof` boxes skipped because they were damaged.
    pub damaged_boxes: u64,
    /// Why the scan last stopped early or skipped a box, for diagnostics.
    pub tail_error: Option<String>,
}

impl<R: Read + Seek> Mp4File<R> {
    /// Scans top-level boxes up to and including `moov`.
    pub(crate) fn open(mut src: R) -> Result<Self, Fmp4Error> {
        let file_len = src.seek(SeekFrom::End(0))?;
        let mut pos = 0;
        loop {
            let header = match read_box_header(&mut src, pos, file_len)? {
                HeaderRead::Box(h) => h,
                HeaderRead::Invalid(reason) if pos == 0 => return Err(Fmp4Error::NotMp4(reason)),
                HeaderRead::Invalid(reason) => {
                    return Err(Fmp4Error::NoMoov(format!("{reason} at byte {pos}")))
                }
                HeaderRead::End | HeaderRead::Truncated => {
                    return Err(Fmp4Error::NoMoov("the file ends before a moov box".into()))
                }
            };
            if header.end() > file_len {
                return Err(Fmp4Error::NoMoov(
                    "the file ends inside a box before moov".into(),
                ));
            }
            if &header.fourcc == b"moov" {
                let payload = read_payload(&mut src, &header)?;
                let movie = parse_moov(&payload);
                return Ok(Mp4File {
                    src,
                    next_dts: vec![0; movie.tracks.len()],
                    movie,
                    file_len,
                    next_box: header.end(),
                    truncated_tail: false,
                    damaged_boxes: 0,
                    tail_error: None,
                });
            }
            pos = header.end();
        }
    }

    pub(crate) fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The samples of the next complete fragment, or `None` at the end of
    /// what is there now. A fragment still being written is left for a
    /// later call, so a growing file can be followed.
    pub(crate) fn next_fragment(&mut self) -> Result<Option<Vec<SampleRef>>, Fmp4Error> {
        loop {
            self.file_len = self.src.seek(SeekFrom::End(0))?;
            let header = match read_box_header(&mut self.src, self.next_box, self.file_len)? {
                HeaderRead::Box(h) => h,
                HeaderRead::End => return Ok(self.stop(false)),
                HeaderRead::Truncated => return Ok(self.stop(true)),
                HeaderRead::Invalid(reason) => {
                    self.tail_error = Some(format!("{reason} at byte {}", self.next_box));
                    return Ok(self.stop(true));
                }
            };
            if header.end() > self.file_len {
                return Ok(self.stop(true));
            }
            if &header.fourcc != b"moof" {
                self.next_box = header.end();
                continue;
            }
            let payload = read_payload(&mut self.src, &header)?;
            match parse_moof(
                &payload,
                header.start,
                &self.movie,
                &self.next_dts,
                self.file_len,
            ) {
                Ok(f) if f.beyond_end || f.samples.iter().any(|s| s.data_end() > self.file_len) => {
                    return Ok(self.stop(true));
                }
                Ok(f) => {
                    for (track, end) in f.track_ends {
                        self.next_dts[track] = end;
                    }
                    self.next_box = header.end();
                    self.truncated_tail = false;
                    return Ok(Some(f.samples));
                }
                Err(e) => {
                    self.damaged_boxes += 1;
                    self.tail_error = Some(format!("{e} at byte {}", header.start));
                    self.next_box = header.end();
                }
            }
        }
    }

    fn stop(&mut self, truncated: bool) -> Option<Vec<SampleRef>> {
        self.truncated_tail = truncated;
        None
    }

    /// Reads one sample's bytes into `out` (replacing its contents).
    pub(crate) fn read_sample(
        &mut self,
        sample: &SampleRef,
        out: &mut Vec<u8>,
    ) -> Result<(), Fmp4Error> {
        if sample.data_end() > self.file_len {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "sample past the end",
            )
            .into());
        }
        out.clear();
        out.resize(sample.size as usize, 0);
        self.src.seek(SeekFrom::Start(sample.offset))?;
        self.src.read_exact(out)?;
        Ok(())
    }
}
