//! Parsed documents, kept by query text: frontends send the same few operations again and
//! again, and copying a parsed document costs a fraction of parsing its text. Only parsing is
//! skipped; the schema still checks the document's depth and validates every request against
//! its own variables. Applied to each HTTP request before it is executed (a request-level step
//! rather than a schema extension, which would sit in the path of every field's resolution).
//!
//! Two bounds keep a flood of distinct queries from pinning memory:
//! - **Bytes.** A parsed document is 25 to 110 times the size of its text (measured: a 16 KB
//!   text of short fields parses into 1.7 MB), so the cache counts each document's estimated
//!   bytes ([`size`]) and holds at most [`BUDGET`]; when the next one would not fit, it starts
//!   again empty, and the operations in use come back at once.
//! - **Only documents that validated.** A document is kept after its request ran, and only when
//!   the response shows it passed parsing and validation, so texts made up to be refused never
//!   take a place.

mod size;

use std::collections::HashMap;
use std::mem::size_of;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{BatchRequest, BatchResponse, Response};

/// The estimated bytes of the documents kept, texts included: the frontends' operations take
/// about 10 to 50 KB each (a 350-byte query with 25 fields: 11 KB), so hundreds fit.
const BUDGET: usize = 16 * 1024 * 1024;
/// Longer query texts are parsed every time: frontends' operations are far shorter.
const LONGEST_KEPT: usize = 16 * 1024;
/// What one entry costs the map itself: its slot (key and pointer) and a control byte.
const ENTRY_BYTES: usize = size_of::<(Box<str>, Arc<ExecutableDocument>)>() + 1;

/// Shared by every request of a server. Cheap to clone.
#[derive(Clone)]
pub struct DocumentCache {
    kept: Arc<Mutex<Kept>>,
    budget: usize,
}

#[derive(Default)]
struct Kept {
    documents: HashMap<Box<str>, Arc<ExecutableDocument>>,
    /// The estimated bytes of `documents`, at most the cache's budget.
    bytes: usize,
}

/// The documents parsed (not found in the cache) for a batch's requests, in the batch's order,
/// to be kept once their requests ran and validated ([`DocumentCache::keep_validated`]).
#[must_use]
pub struct Parsed(Vec<Option<(Box<str>, ExecutableDocument)>>);

impl Default for DocumentCache {
    fn default() -> Self {
        Self::with_budget(BUDGET)
    }
}

impl DocumentCache {
    fn with_budget(budget: usize) -> Self {
        Self {
            kept: Arc::default(),
            budget,
        }
    }

    /// Gives each request of `batch` its parsed document: the one kept for its text, or parsed
    /// now (answered in [`Parsed`], to keep once it validated, unless its text is too long to be
    /// worth it). A text that does not parse is left to the schema, which reports the error.
    pub fn parse(&self, mut batch: BatchRequest) -> (BatchRequest, Parsed) {
        let mut parsed = Vec::new();
        for request in batch.iter_mut() {
            if let Some(document) = self.get(&request.query) {
                request.set_parsed_query(document);
                parsed.push(None);
                continue;
            }
            let worth_keeping = request.query.len() <= LONGEST_KEPT;
            let document = match request.parsed_query() {
                Ok(document) if worth_keeping => Some(document.clone()),
                _ => None,
            };
            parsed.push(document.map(|document| (request.query.as_str().into(), document)));
        }
        (batch, Parsed(parsed))
    }

    /// Keeps the documents of `parsed` whose requests' responses (in `response`, in the same
    /// order) show that they passed parsing and validation.
    pub fn keep_validated(&self, parsed: Parsed, response: &BatchResponse) {
        let responses: Vec<&Response> = match response {
            BatchResponse::Single(response) => vec![response],
            BatchResponse::Batch(responses) => responses.iter().collect(),
        };
        for (fresh, response) in parsed.0.into_iter().zip(responses) {
            if let Some((query, document)) = fresh {
                if validated(response) {
                    self.keep(query, document);
                }
            }
        }
    }

    /// The document parsed earlier from exactly this text.
    fn get(&self, query: &str) -> Option<ExecutableDocument> {
        let kept = self.lock().documents.get(query).cloned()?;
        Some(ExecutableDocument::clone(&kept))
    }

    /// Keeps `document`, parsed from `query`, within the budget.
    fn keep(&self, query: Box<str>, document: ExecutableDocument) {
        let bytes = ENTRY_BYTES + query.len() + size::of(&document);
        if bytes > self.budget {
            return;
        }
        let document = Arc::new(document);
        let mut kept = self.lock();
        if kept.documents.contains_key(&query) {
            return;
        }
        if kept.bytes + bytes > self.budget {
            kept.documents.clear();
            kept.bytes = 0;
        }
        kept.documents.insert(query, document);
        kept.bytes += bytes;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // A panic elsewhere while holding the lock leaves a map that is still whole.
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether `response`'s document passed parsing and validation. async-graphql gives every
/// error raised while resolving a field that field's path; an error without one was raised
/// before execution: parsing, the depth and complexity limits, validation, or picking the
/// operation to run.
fn validated(response: &Response) -> bool {
    response.errors.iter().all(|error| !error.path.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    fn parse(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).expect("a valid query")
    }

    fn keep(cache: &DocumentCache, query: &str) {
        cache.keep(query.into(), parse(query));
    }

    impl DocumentCache {
        fn len(&self) -> usize {
            self.lock().documents.len()
        }

        fn bytes(&self) -> usize {
            self.lock().bytes
        }
    }

    struct Query;

    #[Object]
    impl Query {
        async fn answer(&self) -> i32 {
            42
        }

        async fn broken(&self) -> async_graphql::Result<i32> {
            Err("a resolver's error".into())
        }
    }

    #[test]
    fn answers_the_document_kept_for_exactly_that_text() {
        let cache = DocumentCache::default();
        let query = "{ viewer { role } }";
        assert!(cache.get(query).is_none());
        keep(&cache, query);
        let kept = cache.get(query).expect("kept");
        assert_eq!(format!("{kept:?}"), format!("{:?}", parse(query)));
        assert!(cache.get("{ viewer { role tenantId } }").is_none());
    }

    #[tokio::test]
    async fn keeps_only_the_documents_that_passed_parsing_and_validation() {
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .limit_complexity(3)
            .finish();
        let cache = DocumentCache::default();
        let valid = "{ answer }";
        let failing_resolver = "{ answer broken }";
        let refused = [
            "{ broken",                                    // does not parse
            "{ unknown }",                                 // unknown field
            "{ a: answer b: answer c: answer d: answer }", // too complex
            "query($n: Int!) { answer }",                  // no value for the variable
        ];
        let texts: Vec<&str> = [valid, failing_resolver]
            .into_iter()
            .chain(refused)
            .collect();
        let batch = BatchRequest::Batch(texts.iter().map(|text| (*text).into()).collect());
        let (batch, parsed) = cache.parse(batch);
        let response = schema.execute_batch(batch).await;
        cache.keep_validated(parsed, &response);

        assert!(cache.get(valid).is_some());
        assert!(
            cache.get(failing_resolver).is_some(),
            "a resolver's error says nothing against the document"
        );
        for text in refused {
            assert!(cache.get(text).is_none(), "{text} was kept");
        }
        assert_eq!(cache.len(), 2);
    }

    #[tokio::test]
    async fn a_document_found_in_the_cache_runs_as_if_parsed() {
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription).finish();
        let cache = DocumentCache::default();
        for _ in 0..2 {
            let (batch, parsed) = cache.parse(BatchRequest::Single("{ answer }".into()));
            let response = schema.execute_batch(batch).await;
            cache.keep_validated(parsed, &response);
            let BatchResponse::Single(response) = response else {
                panic!("a single response");
            };
            assert_eq!(response.data.to_string(), "{answer: 42}");
        }
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn stays_within_its_budget_in_bytes_and_skips_long_texts() {
        let budget = 256 * 1024;
        let cache = DocumentCache::with_budget(budget);
        // Distinct texts of up to 600 short fields, parsing into up to about 130 KB each: a
        // few fit at a time.
        for n in 0..200 {
            let query = format!("{{ n{n} {} }}", "a ".repeat(n % 7 * 100));
            keep(&cache, &query);
            assert!(cache.get(&query).is_some(), "the latest is kept");
            assert!(cache.bytes() <= budget, "{} over {budget}", cache.bytes());
        }
        assert!(cache.len() > 1, "small documents share the budget");

        // A document over the whole budget is not kept, nor is a long text.
        let huge = format!("{{ {} }}", "a ".repeat(8_000));
        keep(&cache, &huge);
        assert!(cache.get(&huge).is_none());
        let long = format!("{{ a {} }}", "b ".repeat(LONGEST_KEPT));
        let (_, parsed) = cache.parse(BatchRequest::Single(long.as_str().into()));
        assert!(
            parsed.0[0].is_none(),
            "a long text is not offered to the cache"
        );
    }

    #[test]
    fn the_estimate_follows_the_document_not_its_text() {
        // Measured with a counting allocator: these estimates are 93 to 100 % of the bytes the
        // parser allocates.
        let short_fields = format!("{{ {} }}", "a ".repeat(8_000));
        let estimate = size::of(&parse(&short_fields));
        assert!(
            estimate > 90 * short_fields.len(),
            "{estimate} bytes for {} of text",
            short_fields.len()
        );
        let one_string = format!("{{ a(x: \"{}\") }}", "x".repeat(16_000));
        let estimate = size::of(&parse(&one_string));
        assert!(estimate < 2 * one_string.len(), "{estimate} bytes");
    }
}
