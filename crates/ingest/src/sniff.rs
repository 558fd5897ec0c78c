//! Judging the first bytes of a connection: is it MPEG-TS?
//!
//! A web page can POST any bytes to the ingest port (it is not on the
//! browsers' blocked-port list), and the TS demuxer skips garbage until it
//! finds sync bytes, so an HTTP request whose body is a TS file would be
//! recorded. The ingest therefore accepts a connection only when its very
//! first bytes are TS packets: a sync byte (0x47) at offset 0 repeating at a
//! 188 or 204 byte stride, or at offset 4 repeating every 192 bytes (M2TS,
//! with its 4-byte timestamp prefix). Anything else is named when it can be
//! (HTTP, RTSP, TLS, FLV, RTMP) so the log says what the peer was.

use std::fmt;

/// Sync bytes that must line up before a connection counts as MPEG-TS.
pub const SYNC_PACKETS: usize = 3;

/// (offset of the first sync byte, packet size): plain TS, TS with a 16-byte
/// Reed-Solomon suffix, and M2TS.
const LAYOUTS: [(usize, usize); 3] = [(0, 188), (0, 204), (4, 192)];

/// The most bytes [`judge`] needs to decide.
pub const MAX_SNIFF: usize = 4 + (SYNC_PACKETS - 1) * 204 + 1;

/// What a connection's first bytes look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// MPEG-TS packets of this size.
    /// MPEG-TS packets of this size.
    MpegTs {
        /// 188, 192 or 204.
        packet_size: usize,
    },
    /// Not MPEG-TS.
    NotTs(Looks),
    /// Consistent with MPEG-TS so far; more bytes are needed to tell.
    NeedMore,
}

/// What a rejected connection was, as far as its first bytes tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Looks {
    /// An HTTP request (a web page or a browser).
    Http,
    /// An RTSP request.
    Rtsp,
    /// A TLS handshake.
    Tls,
    /// An FLV stream.
    Flv,
    /// An RTMP handshake.
    Rtmp,
    /// Something else.
    Unknown,
}

impl Looks {
    /// Every kind.
    pub const ALL: [Looks; 6] = [
        Looks::Http,
        Looks::Rtsp,
        Looks::Tls,
        Looks::Flv,
        Looks::Rtmp,
        Looks::Unknown,
    ];

    /// What to do instead, for the log line.
    pub fn hint(self) -> &'static str {
        match self {
            Looks::Http => "a web page or an HTTP client sent this",
            Looks::Rtsp => "send with ffmpeg ... -f mpegts tcp://HOST:PORT, not rtsp://",
            Looks::Tls => "plain TCP, not tls:// or https://",
            Looks::Flv => "send with -f mpegts instead of -f flv",
            Looks::Rtmp => "send with -f mpegts tcp://HOST:PORT instead of rtmp://",
            Looks::Unknown => "e.g. ffmpeg ... -f mpegts tcp://HOST:PORT; the first bytes must be TS packets, a 0x47 sync byte every 188, 192 or 204 bytes",
        }
    }
}

impl fmt::Display for Looks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Looks::Http => "HTTP",
            Looks::Rtsp => "RTSP",
            Looks::Tls => "TLS",
            Looks::Flv => "FLV",
            Looks::Rtmp => "RTMP",
            Looks::Unknown => "an unknown protocol",
        })
    }
}

/// Judges the first bytes of a connection (everything received so far).
///
/// Known protocols are named before TS is considered: "GET " starts with
/// 0x47, and a page controls the URL length, so a request could line
/// sync-like bytes up at a packet stride.
pub fn judge(head: &[u8]) -> Verdict {
    if let Some(looks) = http_request(head) {
        return Verdict::NotTs(looks);
    }
    let mut undecided = false;
    for (offset, size) in LAYOUTS {
        let positions = (0..SYNC_PACKETS).map(|k| offset + k * size);
        let mut seen = 0;
        let mut broken = false;
        for p in positions {
            match head.get(p) {
                Some(0x47) => seen += 1,
                Some(_) => {
                    broken = true;
                    break;
                }
                None => break,
            }
        }
        if broken {
            continue;
        }
        if seen == SYNC_PACKETS {
            return Verdict::MpegTs { packet_size: size };
        }
        undecided = true;
    }
    if undecided {
        Verdict::NeedMore
    } else {
        Verdict::NotTs(binary_protocol(head))
    }
}

/// TLS ClientHello, FLV header, RTMP C0 (only asked once TS is ruled out:
/// an M2TS timestamp prefix may start with any byte).
fn binary_protocol(head: &[u8]) -> Looks {
    const TLS_HANDSHAKE: u8 = 0x16;
    match head {
        [TLS_HANDSHAKE, 0x03, minor, ..] if *minor <= 0x04 => Looks::Tls,
        [b'F', b'L', b'V', ..] => Looks::Flv,
        [0x03 | 0x06, ..] => Looks::Rtmp,
        _ => Looks::Unknown,
    }
}

/// An HTTP or RTSP request line: `METHOD SP ...`.
fn http_request(head: &[u8]) -> Option<Looks> {
    let method_len = head.iter().take_while(|b| b.is_ascii_uppercase()).count();
    if (3..=7).contains(&method_len) && head.get(method_len) == Some(&b' ') {
        let line = &head[..head.len().min(512)];
        let rtsp = line.windows(7).any(|w| w.eq_ignore_ascii_case(b"rtsp://"))
            || line.windows(5).any(|w| w == b"RTSP/");
        return Some(if rtsp { Looks::Rtsp } else { Looks::Http });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packets(size: usize, offset: usize, n: usize) -> Vec<u8> {
        let mut out = vec![0u8; size * n];
        for k in 0..n {
            out[k * size + offset] = 0x47;
            // a PID byte that is not a sync byte
            out[k * size + offset + 1] = 0x01;
        }
        out
    }

    #[test]
    fn ts_at_every_stride() {
        assert_eq!(
            judge(&packets(188, 0, 3)),
            Verdict::MpegTs { packet_size: 188 }
        );
        assert_eq!(
            judge(&packets(204, 0, 3)),
            Verdict::MpegTs { packet_size: 204 }
        );
        assert_eq!(
            judge(&packets(192, 4, 3)),
            Verdict::MpegTs { packet_size: 192 }
        );
        // MAX_SNIFF bytes are enough to decide every layout.
        for (size, offset) in [(188, 0), (192, 4), (204, 0)] {
            let head = &packets(size, offset, 3)[..MAX_SNIFF];
            assert_eq!(judge(head), Verdict::MpegTs { packet_size: size });
        }
    }

    #[test]
    fn a_partial_ts_start_needs_more_bytes() {
        let ts = packets(188, 0, 3);
        for n in [1, 2, 100, 188, 376] {
            assert_eq!(judge(&ts[..n]), Verdict::NeedMore, "{n} bytes");
        }
        assert_eq!(judge(&[]), Verdict::NeedMore);
    }

    #[test]
    fn a_broken_stride_is_not_ts() {
        let mut ts = packets(188, 0, 3);
        ts[376] = 0;
        assert_eq!(judge(&ts), Verdict::NotTs(Looks::Unknown));
        assert_eq!(
            judge(b"\x00\x00\x00\x00\x00"),
            Verdict::NotTs(Looks::Unknown)
        );
    }

    #[test]
    fn protocols_are_named() {
        let post =
            b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1:4444\r\nContent-Type: text/plain\r\n\r\n";
        assert_eq!(judge(post), Verdict::NotTs(Looks::Http));
        assert_eq!(judge(b"GET / HTTP/1.1\r\n"), Verdict::NotTs(Looks::Http));
        assert_eq!(
            judge(b"OPTIONS rtsp://127.0.0.1:4444/live RTSP/1.0\r\n"),
            Verdict::NotTs(Looks::Rtsp)
        );
        assert_eq!(
            judge(b"\x16\x03\x01\x02\x00\x01"),
            Verdict::NotTs(Looks::Tls)
        );
        assert_eq!(
            judge(b"FLV\x01\x05\x00\x00\x00\x09"),
            Verdict::NotTs(Looks::Flv)
        );
        assert_eq!(judge(&[0x03; 1537]), Verdict::NotTs(Looks::Rtmp));
    }

    #[test]
    fn an_m2ts_timestamp_may_start_like_another_protocol() {
        let mut m2ts = packets(192, 4, 3);
        m2ts[..4].copy_from_slice(&[0x03, 0x16, 0x03, 0x01]);
        assert_eq!(judge(&m2ts[..3]), Verdict::NeedMore);
        assert_eq!(judge(&m2ts), Verdict::MpegTs { packet_size: 192 });
    }

    #[test]
    fn a_get_padded_to_look_like_ts_is_still_http() {
        // "GET " starts with 0x47; a page controls the path length.
        let mut req = b"GET /".to_vec();
        req.resize(600, b'a');
        req[188] = b'G';
        req[376] = b'G';
        assert_eq!(judge(&req), Verdict::NotTs(Looks::Http));
    }
}
