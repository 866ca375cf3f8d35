//! Reads of one kind, coalesced across concurrent requests: while one batch query runs, the keys
//! asked for meanwhile wait and go out together in the next. No timer: alone, a read goes out at
//! once; under load, batches grow with it.
//!
//! Why: a burst of mutations answers together. Their read-your-writes waits end on the same
//! committed page of the runner, and each would read its object back with a query of its own
//! (two round trips with sqlx's check of the returned connection). A request's own
//! [`DataLoader`](async_graphql::dataloader::DataLoader) cannot merge them: it lives and dies with
//! its request.
//!
//! A batch runs in a task of its own, so a request that is cancelled (its client went away)
//! never cancels the other requests' reads.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use async_graphql::dataloader::Loader;
use tokio::sync::oneshot;

/// The most keys one batch query carries; more wait for the next.
const MAX_BATCH: usize = 500;

type Answer<L, K> = Result<Option<<L as Loader<K>>::Value>, <L as Loader<K>>::Error>;

/// Shared by every request (cheap to clone); keys carry everything that decides the answer,
/// scope included, since one batch serves many callers.
pub struct Coalescer<K, L: Loader<K>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    inner: Arc<Inner<K, L>>,
}

impl<K, L: Loader<K>> Clone for Coalescer<K, L>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<K, L: Loader<K>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    loader: L,
    queue: Mutex<Queue<K, L>>,
}

struct Queue<K, L: Loader<K>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    waiting: Vec<(K, oneshot::Sender<Answer<L, K>>)>,
    /// A task is draining `waiting`: a new key joins its next batch.
    draining: bool,
}

/// Why a coalesced read has no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoalesceError<E> {
    Load(E),
    /// The batch's task ended without answering: it panicked.
    Dropped,
}

impl<K, L: Loader<K>> Coalescer<K, L>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    pub fn new(loader: L) -> Self {
        Self {
            inner: Arc::new(Inner {
                loader,
                queue: Mutex::new(Queue {
                    waiting: Vec::new(),
                    draining: false,
                }),
            }),
        }
    }

    /// The value of `key`, or `None` when the loader found none.
    pub async fn load_one(&self, key: K) -> Result<Option<L::Value>, CoalesceError<L::Error>> {
        let (answer, answered) = oneshot::channel();
        let start = {
            let mut queue = self.inner.queue();
            queue.waiting.push((key, answer));
            !std::mem::replace(&mut queue.draining, true)
        };
        if start {
            tokio::spawn(Arc::clone(&self.inner).drain());
        }
        match answered.await {
            Ok(answer) => answer.map_err(CoalesceError::Load),
            Err(_) => Err(CoalesceError::Dropped),
        }
    }
}

impl<K, L: Loader<K>> Inner<K, L>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    fn queue(&self) -> MutexGuard<'_, Queue<K, L>> {
        // The lock is never held across an await or user code: a poisoned one is still whole.
        self.queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Loads batch after batch (oldest keys first) until nobody waits.
    async fn drain(self: Arc<Self>) {
        // Should this task end early (a panic in the loader), every key waiting sees `Dropped`
        // and the next key starts a new task.
        let _restart = Restart(&self);
        loop {
            // The requests woken with this one (the same committed page) run first, and join.
            tokio::task::yield_now().await;
            let batch = {
                let mut queue = self.queue();
                if queue.waiting.is_empty() {
                    queue.draining = false;
                    return;
                }
                let take = queue.waiting.len().min(MAX_BATCH);
                queue.waiting.drain(..take).collect::<Vec<_>>()
            };
            // Each key once, however many requests asked for it.
            let mut seen = HashSet::with_capacity(batch.len());
            let keys: Vec<K> = batch
                .iter()
                .filter(|(key, _)| seen.insert(key))
                .map(|(key, _)| key.clone())
                .collect();
            match self.loader.load(&keys).await {
                Ok(found) => {
                    for (key, answer) in batch {
                        // A key asked twice in one batch gets the value twice.
                        let _ = answer.send(Ok(found.get(&key).cloned()));
                    }
                }
                Err(error) => {
                    for (_, answer) in batch {
                        let _ = answer.send(Err(error.clone()));
                    }
                }
            }
        }
    }
}

/// If the draining task unwinds: answers every waiting key (with `Dropped`, by dropping its
/// sender) and clears `draining`, so that no read waits for a task that is gone.
struct Restart<'a, K, L: Loader<K>>(&'a Inner<K, L>)
where
    K: Send + Sync + Hash + Eq + Clone + 'static;

impl<K, L: Loader<K>> Drop for Restart<'_, K, L>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
{
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut queue = self.0.queue();
            queue.waiting.clear();
            queue.draining = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use async_graphql::dataloader::Loader;
    use tokio::sync::Semaphore;
    use tokio::task::JoinHandle;

    use super::{CoalesceError, Coalescer};

    /// Answers `key * 10` for keys below 100, nothing for others; fails on 13 and panics on 666.
    /// Each batch waits for a permit of `gate` first, and is recorded when it starts.
    struct Tens {
        batches: Batches,
        gate: Arc<Semaphore>,
    }

    impl Loader<u32> for Tens {
        type Value = u32;
        type Error = String;

        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, String> {
            self.batches.lock().unwrap().push(keys.to_vec());
            self.gate.acquire().await.unwrap().forget();
            if keys.contains(&666) {
                panic!("the loader's bug");
            }
            if keys.contains(&13) {
                return Err("unlucky".to_owned());
            }
            Ok(keys
                .iter()
                .filter(|key| **key < 100)
                .map(|key| (*key, key * 10))
                .collect())
        }
    }

    /// The batches the loader was asked for, each as it started.
    type Batches = Arc<Mutex<Vec<Vec<u32>>>>;

    fn coalescer(permits: usize) -> (Coalescer<u32, Tens>, Batches, Arc<Semaphore>) {
        let batches = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(Semaphore::new(permits));
        let loader = Tens {
            batches: batches.clone(),
            gate: gate.clone(),
        };
        (Coalescer::new(loader), batches, gate)
    }

    type Reading = JoinHandle<Result<Option<u32>, CoalesceError<String>>>;

    /// A read of `key` in a task of its own.
    fn read(reads: &Coalescer<u32, Tens>, key: u32) -> Reading {
        let reads = reads.clone();
        tokio::spawn(async move { reads.load_one(key).await })
    }

    /// A read of key 1 whose batch has started (and waits at the gate).
    async fn first_batch_running(reads: &Coalescer<u32, Tens>, batches: &Batches) -> Reading {
        let first = read(reads, 1);
        while batches.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        first
    }

    /// Lets the reads spawned so far run and queue up behind the running batch.
    async fn let_reads_queue_up() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn keys_asked_while_a_batch_runs_go_out_together_in_the_next() {
        let (reads, batches, gate) = coalescer(0);
        let first = first_batch_running(&reads, &batches).await;
        let later: Vec<Reading> = [2, 3, 4, 3].map(|key| read(&reads, key)).into();
        let_reads_queue_up().await;
        gate.add_permits(2);
        assert_eq!(first.await.unwrap(), Ok(Some(10)));
        let answers: Vec<_> = futures::future::join_all(later)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            answers,
            vec![Ok(Some(20)), Ok(Some(30)), Ok(Some(40)), Ok(Some(30))]
        );
        let batches = batches.lock().unwrap().clone();
        assert_eq!(batches.len(), 2, "{batches:?}");
        assert_eq!(batches[0], vec![1]);
        let mut second = batches[1].clone();
        second.sort();
        assert_eq!(second, vec![2, 3, 4], "each key once");
    }

    #[tokio::test]
    async fn a_batch_carries_at_most_max_batch_keys_and_the_rest_go_in_the_next() {
        let (reads, batches, gate) = coalescer(0);
        let first = first_batch_running(&reads, &batches).await;
        let keys: Vec<u32> = (1_000..1_000 + super::MAX_BATCH as u32 + 3).collect();
        let later: Vec<Reading> = keys.iter().map(|key| read(&reads, *key)).collect();
        let_reads_queue_up().await;
        gate.add_permits(3);
        assert_eq!(first.await.unwrap(), Ok(Some(10)));
        for answer in futures::future::join_all(later).await {
            assert_eq!(answer.unwrap(), Ok(None));
        }
        let sizes: Vec<usize> = batches.lock().unwrap().iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![1, super::MAX_BATCH, 3]);
    }

    #[tokio::test]
    async fn a_key_the_loader_does_not_find_is_none() {
        let (reads, _, _) = coalescer(10);
        assert_eq!(reads.load_one(500).await, Ok(None));
        assert_eq!(reads.load_one(5).await, Ok(Some(50)));
    }

    #[tokio::test]
    async fn a_failed_batch_fails_every_key_in_it_and_the_next_batch_runs() {
        let (reads, batches, gate) = coalescer(0);
        let first = first_batch_running(&reads, &batches).await;
        let unlucky = read(&reads, 13);
        let bystander = read(&reads, 2);
        let_reads_queue_up().await;
        gate.add_permits(10);
        assert_eq!(first.await.unwrap(), Ok(Some(10)));
        let failed = Err(CoalesceError::Load("unlucky".to_owned()));
        assert_eq!(unlucky.await.unwrap(), failed);
        assert_eq!(bystander.await.unwrap(), failed);
        assert_eq!(reads.load_one(3).await, Ok(Some(30)));
    }

    #[tokio::test]
    async fn a_panicking_loader_answers_dropped_and_the_next_read_still_runs() {
        let (reads, _, _) = coalescer(10);
        assert_eq!(reads.load_one(666).await, Err(CoalesceError::Dropped));
        assert_eq!(reads.load_one(7).await, Ok(Some(70)));
    }
}
