//! What a request's commands appended, stream by stream: the receipt a reader of its own writes
//! waits on, so that finding the write's place in the log costs no query.

use std::sync::{Arc, Mutex, PoisonError};

use dinghuo_store::StreamHead;

/// The streams a request's commands wrote, each with the sequence its last command left it at.
/// Shared by the clones of one [`RequestContext`](crate::RequestContext). Holds the latest
/// [`Written::REMEMBERED`] streams, so that a long-lived holder (a WebSocket connection running
/// mutations) stays small; a reader of a forgotten stream finds its head in the log instead.
#[derive(Debug, Clone, Default)]
pub struct Written(Arc<Mutex<Vec<StreamHead>>>);

impl Written {
    pub const REMEMBERED: usize = 16;

    /// Records that a command appended to stream `aggregate_type`/`aggregate_id`, up to
    /// `sequence`.
    pub(crate) fn record(&self, aggregate_type: &str, aggregate_id: &str, sequence: usize) {
        let sequence = i64::try_from(sequence).unwrap_or(i64::MAX);
        let mut heads = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match heads
            .iter_mut()
            .find(|head| head.aggregate_type == aggregate_type && head.aggregate_id == aggregate_id)
        {
            Some(head) => head.sequence = head.sequence.max(sequence),
            None => {
                if heads.len() == Self::REMEMBERED {
                    heads.remove(0);
                }
                heads.push(StreamHead {
                    aggregate_type: aggregate_type.to_owned(),
                    aggregate_id: aggregate_id.to_owned(),
                    sequence,
                });
            }
        }
    }

    /// Every stream remembered, oldest first: what a reader that caches aggregates' state
    /// forgets after the request.
    pub fn heads(&self) -> Vec<StreamHead> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Where this request's commands left the stream, if they wrote to it.
    pub fn head(&self, aggregate_type: &str, aggregate_id: &str) -> Option<StreamHead> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|head| head.aggregate_type == aggregate_type && head.aggregate_id == aggregate_id)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_sequence_of_each_stream() {
        let written = Written::default();
        written.record("Order", "a", 1);
        written.record("Order", "a", 3);
        written.record("Order", "a", 2);
        written.record("Partner", "a", 5);
        assert_eq!(
            written.head("Order", "a").map(|head| head.sequence),
            Some(3)
        );
        assert_eq!(
            written.head("Partner", "a").map(|head| head.sequence),
            Some(5)
        );
        assert_eq!(written.head("Order", "b"), None);
        let streams: Vec<(String, i64)> = written
            .heads()
            .into_iter()
            .map(|head| (head.aggregate_type, head.sequence))
            .collect();
        assert_eq!(
            streams,
            [("Order".to_owned(), 3), ("Partner".to_owned(), 5)]
        );
    }

    #[test]
    fn a_clone_shares_the_record_and_the_oldest_stream_is_forgotten_first() {
        let written = Written::default();
        let clone = written.clone();
        for index in 0..=Written::REMEMBERED {
            clone.record("Order", &index.to_string(), 1);
        }
        assert_eq!(written.head("Order", "0"), None);
        assert!(written.head("Order", "1").is_some());
        assert!(written
            .head("Order", &Written::REMEMBERED.to_string())
            .is_some());
    }
}
