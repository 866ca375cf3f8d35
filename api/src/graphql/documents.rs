//! Parsed documents, kept by query text: frontends send the same few operations again and
//! again, and copying a parsed document costs a fraction of parsing its text. Only parsing is
//! skipped; the schema still checks the document's depth and validates every request against
//! its own variables. Applied to each HTTP request before it is executed (a request-level step
//! rather than a schema extension, which would sit in the path of every field's resolution).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::BatchRequest;

/// Documents kept at most; when full, the cache starts again empty, so a flood of distinct
/// queries costs memory only up to this bound and the operations in use come back at once.
const CAPACITY: usize = 512;
/// Longer query texts are parsed every time: frontends' operations are far shorter.
const LONGEST_KEPT: usize = 16 * 1024;

/// Shared by every request of a server. Cheap to clone.
#[derive(Clone, Default)]
pub struct DocumentCache {
    documents: Arc<Mutex<HashMap<Box<str>, Arc<ExecutableDocument>>>>,
}

impl DocumentCache {
    /// Gives each request of `batch` its parsed document: the one kept for its text, or parsed
    /// now and kept. A text that does not parse is left to the schema, which reports the error.
    pub fn parse(&self, mut batch: BatchRequest) -> BatchRequest {
        for request in batch.iter_mut() {
            if let Some(document) = self.get(&request.query) {
                request.set_parsed_query(document);
            } else if let Ok(document) = request.parsed_query() {
                let document = document.clone();
                self.keep(&request.query, document);
            }
        }
        batch
    }

    /// The document parsed earlier from exactly this text.
    fn get(&self, query: &str) -> Option<ExecutableDocument> {
        let kept = self.lock().get(query).cloned()?;
        Some(ExecutableDocument::clone(&kept))
    }

    /// Keeps `document`, parsed from `query`, unless the text is too long to be worth it.
    fn keep(&self, query: &str, document: ExecutableDocument) {
        if query.len() > LONGEST_KEPT {
            return;
        }
        let document = Arc::new(document);
        let mut documents = self.lock();
        if documents.len() >= CAPACITY {
            documents.clear();
        }
        documents.insert(query.into(), document);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Arc<ExecutableDocument>>> {
        // A panic elsewhere while holding the lock leaves a map that is still whole.
        self.documents
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).expect("a valid query")
    }

    #[test]
    fn answers_the_document_kept_for_exactly_that_text() {
        let cache = DocumentCache::default();
        let query = "{ viewer { role } }";
        assert!(cache.get(query).is_none());
        cache.keep(query, parse(query));
        let kept = cache.get(query).expect("kept");
        assert_eq!(format!("{kept:?}"), format!("{:?}", parse(query)));
        assert!(cache.get("{ viewer { role tenantId } }").is_none());
    }

    #[test]
    fn gives_each_request_of_a_batch_its_document_and_leaves_bad_texts_to_the_schema() {
        let cache = DocumentCache::default();
        let query = "{ viewer { role } }";
        let batch = BatchRequest::Batch(vec![
            async_graphql::Request::new(query),
            async_graphql::Request::new("{ broken"),
        ]);
        let mut batch = cache.parse(batch);
        assert_eq!(cache.len(), 1, "only the text that parses is kept");
        assert!(cache.get(query).is_some());
        let mut requests: Vec<_> = batch.iter_mut().collect();
        // The bad text is still unparsed: parsing it now reports the schema's usual error.
        assert!(requests[1].parsed_query().is_err());
    }

    #[test]
    fn stays_within_its_capacity_and_skips_long_texts() {
        let cache = DocumentCache::default();
        for n in 0..CAPACITY {
            let query = format!("{{ a{n} }}");
            cache.keep(&query, parse(&query));
        }
        assert_eq!(cache.len(), CAPACITY);
        let next = "{ another }";
        cache.keep(next, parse(next));
        assert_eq!(cache.len(), 1, "a full cache starts again");
        assert!(cache.get(next).is_some());

        let long = format!("{{ a {} }}", "b ".repeat(LONGEST_KEPT));
        cache.keep(&long, parse(&long));
        assert!(cache.get(&long).is_none());
    }
}
