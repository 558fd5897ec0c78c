//! Where demuxed items go: the caller supplies the sink, the demuxer drives it.

use cht_core::DemuxItem;

/// Receives demuxed items in arrival order.
pub trait DemuxSink {
    /// Takes the next item.
    fn item(&mut self, item: DemuxItem);
}

impl<F: FnMut(DemuxItem)> DemuxSink for F {
    fn item(&mut self, item: DemuxItem) {
        self(item)
    }
}

impl DemuxSink for Vec<DemuxItem> {
    fn item(&mut self, item: DemuxItem) {
        self.push(item)
    }
}
