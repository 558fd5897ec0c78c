//! The live status: each stage keeps its own counters in a [`StatusCell`]
//! and the [`StatusBoard`] puts them side by side for `GET /status` and the
//! `stats` event, so that every counter has one owner.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::{Map, Value};

/// One stage's status, shared between the stage (which updates it) and the
/// board (which reads it). Cheap to clone.
#[derive(Debug, Default)]
pub struct StatusCell<T>(Arc<Mutex<T>>);

impl<T> Clone for StatusCell<T> {
    fn clone(&self) -> Self {
        StatusCell(self.0.clone())
    }
}

impl<T> StatusCell<T> {
    /// A cell holding `status`.
    pub fn new(status: T) -> Self {
        StatusCell(Arc::new(Mutex::new(status)))
    }

    /// Changes the status in place.
    pub fn update(&self, change: impl FnOnce(&mut T)) {
        if let Ok(mut status) = self.0.lock() {
            change(&mut status);
        }
    }

    /// Reads the status.
    pub fn read<R>(&self, read: impl FnOnce(&T) -> R) -> Option<R> {
        self.0.lock().ok().map(|status| read(&status))
    }
}

impl<T: Clone + Default> StatusCell<T> {
    /// A copy of the status (the default if the cell is poisoned).
    pub fn get(&self) -> T {
        self.read(T::clone).unwrap_or_default()
    }
}

/// A stage's status as JSON fields.
trait Section: Send + Sync {
    fn fields(&self) -> Value;
}

impl<T: Serialize + Send> Section for StatusCell<T> {
    fn fields(&self) -> Value {
        self.read(|s| serde_json::to_value(s).unwrap_or_default())
            .unwrap_or_default()
    }
}

/// The status of every live stage, side by side: the fields of each stage's
/// status merged into one JSON object, in the order the stages were added.
#[derive(Clone, Default)]
pub struct StatusBoard {
    sections: Arc<Mutex<Vec<Box<dyn Section>>>>,
}

impl StatusBoard {
    /// An empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a stage's status; its fields appear in every snapshot.
    pub fn add<T: Serialize + Send + 'static>(&self, cell: StatusCell<T>) {
        if let Ok(mut sections) = self.sections.lock() {
            sections.push(Box::new(cell));
        }
    }

    /// Every stage's fields now.
    pub fn snapshot(&self) -> LiveStatus {
        let mut fields = Map::new();
        if let Ok(sections) = self.sections.lock() {
            for section in sections.iter() {
                if let Value::Object(map) = section.fields() {
                    fields.extend(map);
                }
            }
        }
        LiveStatus(fields)
    }
}

/// A snapshot of the live status: what `GET /status` returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct LiveStatus(Map<String, Value>);

impl LiveStatus {
    /// One field.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field)
    }

    /// The status as a JSON value.
    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Default, Serialize)]
    struct Input {
        bytes_in: u64,
    }

    #[derive(Debug, Clone, Default, Serialize)]
    struct Recorder {
        segments_recorded: u64,
        bytes_written: u64,
    }

    #[test]
    fn each_stage_contributes_its_own_fields() {
        let board = StatusBoard::new();
        let input = StatusCell::new(Input::default());
        let recorder = StatusCell::new(Recorder::default());
        board.add(input.clone());
        board.add(recorder.clone());
        input.update(|s| s.bytes_in = 1000);
        recorder.update(|s| {
            s.segments_recorded = 1;
            s.bytes_written = 900;
        });
        let status = board.snapshot();
        assert_eq!(status.get("bytes_in"), Some(&Value::from(1000)));
        assert_eq!(status.get("bytes_written"), Some(&Value::from(900)));
        assert_eq!(recorder.get().segments_recorded, 1);
        assert_eq!(
            serde_json::to_string(&status).expect("json"),
            r#"{"bytes_in":1000,"bytes_written":900,"segments_recorded":1}"#
        );
    }
}
