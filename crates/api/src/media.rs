//! `GET /sessions/{id}/stream/{segment}.mp4`: a segment file as it is on
//! disk, with byte ranges (RFC 9110 §14), so that a browser's `<video>`
//! seeks in it and a live page follows it as it grows.
//!
//! A segment being recorded grows: every answer describes the file as it
//! is at that moment (its length then), and a range starting at the
//! current end is 416 with `Content-Range: bytes */LEN`, which a follower
//! reads as "nothing new yet". Bodies are streamed in blocks read off the
//! async threads, never held whole in memory.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::routes::ApiState;

/// Bytes read from the file at a time.
const BLOCK: usize = 256 << 10;

/// A byte range of a file of `len` bytes: `start..end` (end exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ByteRange {
    start: u64,
    end: u64,
}

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RangeAsk {
    /// No usable header: the whole file.
    Whole,
    /// One satisfiable range.
    Part(ByteRange),
    /// A range wholly past the end.
    Unsatisfiable,
}

/// Parses `bytes=a-b`, `bytes=a-`, `bytes=-n`. Several ranges, other units
/// or a malformed header are answered with the whole file, as RFC 9110
/// allows a server to ignore a `Range` it does not support.
pub(crate) fn parse_range(header: Option<&str>, len: u64) -> RangeAsk {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeAsk::Whole;
    };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeAsk::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let range = if first.is_empty() {
        // The last n bytes.
        match last.parse::<u64>() {
            Ok(0) => return RangeAsk::Unsatisfiable,
            Ok(n) => ByteRange {
                start: len.saturating_sub(n),
                end: len,
            },
            Err(_) => return RangeAsk::Whole,
        }
    } else {
        let Ok(start) = first.parse::<u64>() else {
            return RangeAsk::Whole;
        };
        let end = match last {
            "" => len,
            last => match last.parse::<u64>() {
                Ok(l) if l >= start => l.saturating_add(1).min(len),
                _ => return RangeAsk::Whole,
            },
        };
        ByteRange { start, end }
    };
    if range.start >= len {
        RangeAsk::Unsatisfiable
    } else {
        RangeAsk::Part(range)
    }
}

pub(crate) async fn segment(
    State(state): State<ApiState>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path((id, file)) = path.map_err(|e| ApiError::bad_request(e.to_string()))?;
    let catalog = state.catalog.clone();
    let path = tokio::task::spawn_blocking(move || catalog.segment_file(&id, &file))
        .await
        .map_err(ApiError::internal)??;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    answer(path, range.map(str::to_string)).await
}

async fn answer(path: PathBuf, range: Option<String>) -> Result<Response, ApiError> {
    let opened = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path)?;
        let len = file.metadata()?.len();
        Ok::<_, std::io::Error>((file, len))
    })
    .await
    .map_err(ApiError::internal)?;
    let (file, len) = opened.map_err(ApiError::internal)?;
    let (status, part) = match parse_range(range.as_deref(), len) {
        RangeAsk::Whole => (StatusCode::OK, ByteRange { start: 0, end: len }),
        RangeAsk::Part(part) => (StatusCode::PARTIAL_CONTENT, part),
        RangeAsk::Unsatisfiable => {
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("the range starts at or past the end of the file ({len} bytes)"),
            )
            .into_response();
            insert(
                response.headers_mut(),
                header::CONTENT_RANGE,
                format!("bytes */{len}"),
            );
            return Ok(response);
        }
    };
    let body = Body::from_stream(blocks(file, part));
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // A segment being recorded changes: always ask again.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    insert(
        headers,
        header::CONTENT_LENGTH,
        (part.end - part.start).to_string(),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        insert(
            headers,
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{len}", part.start, part.end - 1),
        );
    }
    Ok(response)
}

fn insert(headers: &mut HeaderMap, name: header::HeaderName, value: String) {
    if let Ok(value) = HeaderValue::from_str(&value) {
        headers.insert(name, value);
    }
}

/// The bytes of `range` of `file`, a block at a time, each read on the
/// blocking pool.
fn blocks(
    file: std::fs::File,
    range: ByteRange,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold((Some(file), range.start), move |(file, at)| async move {
        let mut file = file?;
        if at >= range.end {
            return None;
        }
        let want = usize::try_from(range.end - at).unwrap_or(BLOCK).min(BLOCK);
        let read = tokio::task::spawn_blocking(move || {
            let mut block = vec![0u8; want];
            file.seek(SeekFrom::Start(at))?;
            file.read_exact(&mut block)?;
            Ok::<_, std::io::Error>((file, block))
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        match read {
            Ok((file, block)) => Some((Ok(Bytes::from(block)), (Some(file), at + want as u64))),
            Err(e) => Some((Err(e), (None, range.end))),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(start: u64, end: u64) -> RangeAsk {
        RangeAsk::Part(ByteRange { start, end })
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 100), RangeAsk::Whole);
        assert_eq!(parse_range(Some("bytes=0-"), 100), part(0, 100));
        assert_eq!(parse_range(Some("bytes=10-19"), 100), part(10, 20));
        assert_eq!(parse_range(Some("bytes=90-500"), 100), part(90, 100));
        assert_eq!(parse_range(Some("bytes=-30"), 100), part(70, 100));
        assert_eq!(parse_range(Some("bytes=-300"), 100), part(0, 100));
        assert_eq!(
            parse_range(Some("bytes=100-"), 100),
            RangeAsk::Unsatisfiable
        );
        assert_eq!(parse_range(Some("bytes=-0"), 100), RangeAsk::Unsatisfiable);
        for ignored in [
            "items=0-5",
            "bytes=5-2",
            "bytes=a-b",
            "bytes=0-1,5-6",
            "bytes",
        ] {
            assert_eq!(
                parse_range(Some(ignored), 100),
                RangeAsk::Whole,
                "{ignored}"
            );
        }
    }
}
