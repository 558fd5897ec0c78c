//! `index.json`: the JSON array of frame entries that consumers read
//! (written by `cht_session::JsonIndex`, as every index of a session).

use cht_session::numbering::FRAMES;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One scene frame as listed in `index.json`.
///
/// The first four fields are those of the tool cht replaces; entries it
/// wrote may lack `segment` and `score`, and any fields cht does not know
/// are kept in `extra` and written back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameEntry {
    /// `F0001`, `F0002`, ...
    pub id: String,
    /// Seconds since the start of the segment's clock.
    pub timestamp: f64,
    /// Relative to the session directory, e.g. `frames/F0001.jpg`.
    pub path: String,
    /// Whether the agent was given this frame (`cht frames sent`, `POST /frames/sent`).
    #[serde(default)]
    pub sent_to_agent: bool,
    /// The segment the frame comes from (absent in indexes of older tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<u32>,
    /// The scene score that selected it (absent in indexes of older tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Present (and true) only for frames a user asked for.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub manual: bool,
    /// `"event"`: a new screen (`timestamp` is when the change began);
    /// `"update"`: the same screen, built further since the last picture;
    /// `"manual"`: a capture asked for. Absent in indexes of older tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FrameKind>,
    /// The time of the frame shown, on the segment's clock: after
    /// `timestamp` when the picture waited for the screen to settle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture_time: Option<f64>,
    /// What changed, e.g. `"screen_change"`, `"shot_cut"`, `"update"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// `timestamp` on the session's timeline: the segment's start in the
    /// session plus `timestamp` (absent in indexes of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_time: Option<f64>,
    /// `picture_time` on the session's timeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_picture_time: Option<f64>,
    /// Fields cht does not know, kept and written back unchanged.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What kind of picture an index entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameKind {
    /// A new screen.
    Event,
    /// The current screen, built further since the last picture.
    Update,
    /// A capture a user or agent asked for.
    Manual,
}

impl FrameEntry {
    /// The number in an `F<digits>` id; `None` for ids of another shape.
    pub fn number(&self) -> Option<u64> {
        FRAMES.parse_id(&self.id)
    }

    /// The time of the picture shown, on the segment's clock.
    pub fn shown_at(&self) -> f64 {
        self.picture_time.unwrap_or(self.timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_entries_round_trip_with_unknown_fields_kept() {
        let legacy = r#"[{"id":"F0007","timestamp":3.5,"path":"frames/F0007.jpg","sent_to_agent":true,"note":{"a":1}}]"#;
        let entries: Vec<FrameEntry> = serde_json::from_str(legacy).unwrap();
        assert_eq!(entries[0].number(), Some(7));
        assert_eq!((entries[0].segment, entries[0].manual), (None, false));
        let back = serde_json::to_string(&entries).unwrap();
        assert_eq!(back, legacy);
    }

    #[test]
    fn new_entries_serialise_fields_in_documented_order() {
        let entry = FrameEntry {
            id: "F0001".into(),
            timestamp: 1.234,
            path: "frames/F0001.jpg".into(),
            sent_to_agent: false,
            segment: Some(0),
            score: Some(0.42),
            manual: true,
            kind: Some(FrameKind::Manual),
            picture_time: Some(1.234),
            cause: None,
            session_time: Some(11.234),
            session_picture_time: Some(11.234),
            extra: Map::new(),
        };
        assert_eq!(
            serde_json::to_string(&entry).unwrap(),
            r#"{"id":"F0001","timestamp":1.234,"path":"frames/F0001.jpg","sent_to_agent":false,"segment":0,"score":0.42,"manual":true,"kind":"manual","picture_time":1.234,"session_time":11.234,"session_picture_time":11.234}"#
        );
    }
}
