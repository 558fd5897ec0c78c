//! `cht export SESSION --html DIR`: the session page as a folder that opens
//! from `file://` with no server, as PySceneDetect's `save-html` does.
//!
//! ```text
//! DIR/index.html      the page
//! DIR/cht.js, cht.css the same script and style sheet as served
//! DIR/data.js         window.CHT_DATA = {session, timeline} (fetch() fails on file://)
//! DIR/video/          the segment files, as recorded
//! DIR/pictures/       the pictures, as written
//! DIR/thumbs/         the same, 240 pixels wide, for the strip
//! ```

use std::path::{Path, PathBuf};

use cht_api::{Catalog, CatalogError, TimelineEntry};
use serde_json::json;

/// Width of the strip's pictures.
const THUMB_WIDTH: u32 = 240;

/// Why an export did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The session cannot be read.
    #[error(transparent)]
    Session(#[from] CatalogError),
    /// The folder holds files already: nothing is overwritten.
    #[error("{} is not empty: choose a new folder (nothing is overwritten)", .0.display())]
    NotEmpty(PathBuf),
    /// The session has no segment to play.
    #[error("session {0:?} has no recording to export")]
    NothingRecorded(String),
    /// A file cannot be written or read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A picture cannot be scaled for the strip.
    #[error("picture {id}: {message}")]
    Picture {
        /// The picture's id.
        id: String,
        /// What went wrong.
        message: String,
    },
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    /// The page to open.
    pub page: PathBuf,
    /// Segment files copied.
    pub segments: usize,
    /// Pictures copied.
    pub pictures: usize,
    /// Transcripts included.
    pub transcripts: usize,
    /// Bytes written.
    pub bytes: u64,
}

/// Writes session `id` of `catalog` into `dir` (created; it must be absent
/// or empty).
pub fn export(catalog: &Catalog, id: &str, dir: &Path) -> Result<ExportSummary, ExportError> {
    let mut session = catalog.session(id)?;
    let timeline = catalog.timeline(id)?;
    if session.segments.is_empty() {
        return Err(ExportError::NothingRecorded(id.to_string()));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Io { path, source }
    };
    if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some()) {
        return Err(ExportError::NotEmpty(dir.to_path_buf()));
    }
    for sub in ["video", "pictures", "thumbs"] {
        let path = dir.join(sub);
        std::fs::create_dir_all(&path).map_err(io(&path))?;
    }
    let mut written = Writer { bytes: 0 };
    for segment in &session.segments {
        let name = file_name(&segment.path);
        let from = catalog.segment_file(id, &name)?;
        let to = dir.join("video").join(&name);
        written.bytes += std::fs::copy(&from, &to).map_err(io(&to))?;
    }
    let mut pictures = 0;
    let mut transcripts = 0;
    for entry in &timeline {
        match entry {
            TimelineEntry::Picture { id: picture, .. } => {
                let jpeg = catalog.picture(id, picture)?;
                let thumb = cht_frames::scale_jpeg(&jpeg, THUMB_WIDTH).map_err(|e| {
                    ExportError::Picture {
                        id: picture.clone(),
                        message: e.to_string(),
                    }
                })?;
                written.file(&dir.join("pictures").join(format!("{picture}.jpg")), &jpeg)?;
                written.file(&dir.join("thumbs").join(format!("{picture}.jpg")), &thumb)?;
                pictures += 1;
            }
            TimelineEntry::Transcript { .. } => transcripts += 1,
            _ => {}
        }
    }
    // A copy plays on its own: nothing in it is live.
    session.live = false;
    session.recording = false;
    // Nothing about this machine (paths) goes into a folder meant to be
    // shared.
    let data = json!({
        "session": session,
        "timeline": timeline,
    });
    let script = format!("window.CHT_DATA = {data};\n");
    written.file(&dir.join("data.js"), script.as_bytes())?;
    written.file(&dir.join("cht.js"), crate::SCRIPT.as_bytes())?;
    written.file(&dir.join("cht.css"), crate::STYLE.as_bytes())?;
    let page = dir.join("index.html");
    written.file(&page, crate::exported_page().as_bytes())?;
    Ok(ExportSummary {
        page,
        segments: session.segments.len(),
        pictures,
        transcripts,
        bytes: written.bytes,
    })
}

struct Writer {
    bytes: u64,
}

impl Writer {
    fn file(&mut self, path: &Path, contents: &[u8]) -> Result<(), ExportError> {
        std::fs::write(path, contents).map_err(|source| ExportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.bytes += contents.len() as u64;
        Ok(())
    }
}

/// `recording_000.mp4` out of `stream/recording_000.mp4`.
fn file_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}
