//! Hostile files: sizes and counts that claim more than the file holds must
//! end in typed errors or short answers, quickly and without big allocations.

use crate::box_writer::{begin_box, begin_full_box, end_box, PutBe};
use crate::{probe_bytes, Fmp4Error, Mp4Samples};

/// `moov` with one audio track whose tables claim `count` samples.
fn progressive_claiming(count: u32, constant_size: u32) -> Vec<u8> {
    let mut b = Vec::new();
    let moov = begin_box(&mut b, b"moov");
    let trak = begin_box(&mut b, b"trak");
    let tkhd = begin_full_box(&mut b, b"tkhd", 0, 3);
    b.put_zeros(8);
    b.put_u32(1);
    b.put_zeros(72);
    end_box(&mut b, tkhd);
    let mdia = begin_box(&mut b, b"mdia");
    let mdhd = begin_full_box(&mut b, b"mdhd", 0, 0);
    b.put_zeros(8);
    b.put_u32(1000);
    b.put_zeros(8);
    end_box(&mut b, mdhd);
    let hdlr = begin_full_box(&mut b, b"hdlr", 0, 0);
    b.put_u32(0);
    b.extend_from_slice(b"soun");
    b.put_zeros(13);
    end_box(&mut b, hdlr);
    let minf = begin_box(&mut b, b"minf");
    let stbl = begin_box(&mut b, b"stbl");
    let stts = begin_full_box(&mut b, b"stts", 0, 0);
    b.put_u32(1);
    b.put_u32(u32::MAX);
    b.put_u32(1);
    end_box(&mut b, stts);
    let stsc = begin_full_box(&mut b, b"stsc", 0, 0);
    b.put_u32(1);
    b.put_u32(1);
    b.put_u32(u32::MAX);
    b.put_u32(1);
    end_box(&mut b, stsc);
    let stsz = begin_full_box(&mut b, b"stsz", 0, 0);
    b.put_u32(constant_size);
    b.put_u32(count);
    end_box(&mut b, stsz);
    let stco = begin_full_box(&mut b, b"stco", 0, 0);
    b.put_u32(u32::MAX); // claims 4 billion chunks, holds one
    b.put_u32(0);
    end_box(&mut b, stco);
    for start in [stbl, minf, mdia, trak, moov] {
        end_box(&mut b, start);
    }
    b
}

#[test]
fn huge_sample_counts_are_bounded_by_the_file() {
    let file = progressive_claiming(u32::MAX, 1);
    let info = probe_bytes(&file).unwrap();
    // stco is damaged (count beyond the box), so the table is refused.
    assert_eq!(info.tracks.len(), 0);

    let mut file = progressive_claiming(u32::MAX, 1);
    let at = file.windows(4).position(|w| w == b"stco").unwrap();
    file[at + 8..at + 12].copy_from_slice(&1u32.to_be_bytes());
    let info = probe_bytes(&file).unwrap();
    let track = &info.tracks[0];
    assert!(
        track.sample_count <= file.len() as u64,
        "{}",
        track.sample_count
    );
    let samples = Mp4Samples::from_bytes(&file).unwrap().count();
    assert_eq!(samples as u64, track.sample_count);

    // Per-sample sizes: the count cannot exceed the records present.
    let file = progressive_claiming(u32::MAX, 0);
    assert_eq!(probe_bytes(&file).unwrap().tracks.len(), 0);
}

#[test]
fn a_trun_claiming_billions_of_samples_is_not_expanded() {
    let mut b = progressive_claiming(0, 0);
    let at = b.windows(4).position(|w| w == b"stco").unwrap();
    b[at + 8..at + 12].copy_from_slice(&0u32.to_be_bytes());
    let moov_end = b.len();
    let mvex_start = b.len();
    let mvex = begin_box(&mut b, b"mvex");
    let trex = begin_full_box(&mut b, b"trex", 0, 0);
    for v in [1, 1, 1, 1, 0] {
        b.put_u32(v);
    }
    end_box(&mut b, trex);
    end_box(&mut b, mvex);
    // Splice mvex into moov.
    let mvex_bytes = b.split_off(mvex_start);
    b.extend_from_slice(&mvex_bytes);
    let moov_size = u32::from_be_bytes(b[0..4].try_into().unwrap()) + mvex_bytes.len() as u32;
    b[0..4].copy_from_slice(&moov_size.to_be_bytes());
    assert_eq!(moov_end + mvex_bytes.len(), b.len());

    let moof = begin_box(&mut b, b"moof");
    let traf = begin_box(&mut b, b"traf");
    let tfhd = begin_full_box(&mut b, b"tfhd", 0, 0x02_0000);
    b.put_u32(1);
    end_box(&mut b, tfhd);
    let trun = begin_full_box(&mut b, b"trun", 0, 0);
    b.put_u32(u32::MAX);
    end_box(&mut b, trun);
    end_box(&mut b, traf);
    end_box(&mut b, moof);
    let info = probe_bytes(&b).unwrap();
    assert!(info.fragmented);
    assert_eq!((info.fragments, info.tracks[0].sample_count), (0, 0));
    assert!(info.truncated_tail, "the samples would lie past the end");

    // With per-sample records the count must match the records.
    let at = b.windows(4).position(|w| w == b"trun").unwrap();
    b[at + 6] = 0x02; // flags: sample size present
    let info = probe_bytes(&b).unwrap();
    assert_eq!((info.fragments, info.damaged_boxes), (0, 1));
    assert!(info.tail_error.unwrap().contains("trun"));
}

#[test]
fn not_an_mp4() {
    assert!(matches!(
        probe_bytes(b"\x00\x00\x00\x02abcd"),
        Err(Fmp4Error::NotMp4(_))
    ));
    assert!(matches!(probe_bytes(b""), Err(Fmp4Error::NoMoov(_))));
    assert!(matches!(
        probe_bytes(b"\x00\x00\x00\x10ftypisom\x00\x00\x00\x00"),
        Err(Fmp4Error::NoMoov(_))
    ));
}
