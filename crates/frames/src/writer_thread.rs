//! JPEG encoding off the decoding thread.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use cht_core::Picture;

use crate::error::FramesError;
use crate::index::FrameEntry;
use crate::store::{FrameMeta, FrameStore};

enum Job {
    Write(Box<Picture>, FrameMeta),
    MarkSent(Vec<String>, mpsc::Sender<Result<usize, FramesError>>),
    Entries(mpsc::Sender<Vec<FrameEntry>>),
}

/// A worker thread that owns a [`FrameStore`] and writes frames in order.
///
/// Scene frames must never be lost, so the queue is bounded and
/// [`submit`](Self::submit) BLOCKS when it is full: the analysis thread that
/// submits waits for JPEG encoding to catch up (at ~5-15 ms per frame that
/// is rare). Submit from the analysis thread, never from the recorder, which
/// must not wait for anything. Memory stays bounded by `queue_len` pictures.
pub struct FrameWriterThread {
    jobs: Option<SyncSender<Job>>,
    worker: Option<JoinHandle<FrameStore>>,
}

impl FrameWriterThread {
    /// Frames waiting for the writer at most before `submit` waits.
    pub const DEFAULT_QUEUE_LEN: usize = 8;

    /// Starts the worker. `on_written` runs on the worker thread after each
    /// frame, with its index entry or the error that lost it.
    pub fn spawn(
        store: FrameStore,
        queue_len: usize,
        on_written: impl FnMut(Result<FrameEntry, FramesError>) + Send + 'static,
    ) -> Result<FrameWriterThread, FramesError> {
        let (jobs, queue) = mpsc::sync_channel(queue_len.max(1));
        let dir = store.dir().to_owned();
        let worker = std::thread::Builder::new()
            .name("cht-frames".into())
            .spawn(move || run(store, queue, on_written))
            .map_err(FramesError::io(dir))?;
        Ok(FrameWriterThread {
            jobs: Some(jobs),
            worker: Some(worker),
        })
    }

    /// Queues a frame; blocks while the queue is full (see the type docs).
    pub fn submit(&self, picture: Picture, meta: FrameMeta) -> Result<(), FramesError> {
        self.send(Job::Write(Box::new(picture), meta))
    }

    /// [`FrameStore::mark_sent`], run after the frames already queued.
    pub fn mark_sent(&self, ids: Vec<String>) -> Result<usize, FramesError> {
        let (reply, answer) = mpsc::channel();
        self.send(Job::MarkSent(ids, reply))?;
        answer.recv().map_err(|_| FramesError::WriterGone)?
    }

    /// The index as it stands once the frames already queued are written.
    pub fn entries(&self) -> Result<Vec<FrameEntry>, FramesError> {
        let (reply, answer) = mpsc::channel();
        self.send(Job::Entries(reply))?;
        answer.recv().map_err(|_| FramesError::WriterGone)
    }

    /// Writes everything queued, stops the worker and returns the store.
    pub fn finish(mut self) -> Result<FrameStore, FramesError> {
        self.jobs = None;
        let worker = self.worker.take().ok_or(FramesError::WriterGone)?;
        worker.join().map_err(|_| FramesError::WriterGone)
    }

    fn send(&self, job: Job) -> Result<(), FramesError> {
        let jobs = self.jobs.as_ref().ok_or(FramesError::WriterGone)?;
        jobs.send(job).map_err(|_| FramesError::WriterGone)
    }
}

impl Drop for FrameWriterThread {
    /// Dropping without [`finish`](Self::finish) still writes what is queued.
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn run(
    mut store: FrameStore,
    queue: Receiver<Job>,
    mut on_written: impl FnMut(Result<FrameEntry, FramesError>),
) -> FrameStore {
    for job in queue {
        match job {
            Job::Write(picture, meta) => on_written(store.write(&picture, meta)),
            Job::MarkSent(ids, reply) => {
                let _ = reply.send(store.mark_sent(&ids));
            }
            Job::Entries(reply) => {
                let _ = reply.send(store.entries().to_vec());
            }
        }
    }
    store
}
