//! Writes that arrive together go out together.
//!
//! Every write waits for one lock (the writer connection or the audit chain). A caller puts
//! its item in a queue, then waits for whichever comes first: its answer, or the lock. With
//! the lock it writes whatever the queue holds by then in one statement, its own item and
//! those of everyone who queued meanwhile, who get their answers without ever taking it. One caller alone costs one
//! statement, as before; a burst (a raid's bans) costs a statement per batch.

use std::sync::{Mutex, MutexGuard};

use tokio::sync::oneshot;

use super::StoreError;

/// Items waiting to be written, each with the way back to its caller.
pub(crate) struct Queue<T, R> {
    waiting: Mutex<Vec<Queued<T, R>>>,
}

struct Queued<T, R> {
    item: T,
    reply: oneshot::Sender<Result<R, String>>,
}

/// One caller's claim on the answer for its item.
pub(crate) struct Ticket<R>(oneshot::Receiver<Result<R, String>>);

/// Items taken from the queue to write now.
pub(crate) struct Batch<T, R> {
    taken: Vec<Queued<T, R>>,
}

impl<T, R> Default for Queue<T, R> {
    fn default() -> Self {
        Queue {
            waiting: Mutex::new(Vec::new()),
        }
    }
}

impl<T, R> std::fmt::Debug for Queue<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Queue")
    }
}

impl<T, R> Queue<T, R> {
    /// Queues `item`; the ticket resolves once some caller has written it.
    pub fn push(&self, item: T) -> Ticket<R> {
        let (reply, answer) = oneshot::channel();
        self.lock().push(Queued { item, reply });
        Ticket(answer)
    }

    /// Takes up to `max` of the oldest waiting items. Call it with the write lock held.
    pub fn take(&self, max: usize) -> Batch<T, R> {
        let mut waiting = self.lock();
        let n = waiting.len().min(max);
        Batch {
            taken: waiting.drain(..n).collect(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Queued<T, R>>> {
        crate::lock::lock(&self.waiting)
    }
}

impl<T, R> Batch<T, R> {
    /// The items, in queue order.
    pub fn items(&self) -> Vec<&T> {
        self.taken.iter().map(|q| &q.item).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.taken.is_empty()
    }

    /// Answers every caller: the n-th result goes to the n-th item; an error goes to all.
    pub fn answer(self, results: Result<Vec<R>, StoreError>) {
        match results {
            Ok(results) => {
                for (queued, result) in self.taken.into_iter().zip(results) {
                    let _ = queued.reply.send(Ok(result));
                }
            }
            Err(e) => {
                let message = e.to_string();
                for queued in self.taken {
                    let _ = queued.reply.send(Err(message.clone()));
                }
            }
        }
    }
}

impl<R> Ticket<R> {
    /// The answer for this caller's item. Waiting for it alongside the write lock lets a
    /// caller whose item someone else wrote leave without taking the lock at all.
    pub async fn answer(&mut self) -> Result<R, StoreError> {
        match (&mut self.0).await {
            Ok(result) => result.map_err(StoreError::BatchWrite),
            Err(_) => Err(StoreError::BatchWrite(
                "the write was abandoned before it finished".to_string(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_reach_their_own_callers() {
        let queue: Queue<u32, u32> = Queue::default();
        let a = queue.push(1);
        let b = queue.push(2);
        let c = queue.push(3);
        let batch = queue.take(2);
        assert_eq!(batch.items(), vec![&1, &2]);
        batch.answer(Ok(vec![10, 20]));
        let rest = queue.take(10);
        rest.answer(Err(StoreError::NotFound("gone".into())));
        let (mut a, mut b, mut c) = (a, b, c);
        assert_eq!(a.answer().await.unwrap(), 10);
        assert_eq!(b.answer().await.unwrap(), 20);
        assert!(c.answer().await.unwrap_err().to_string().contains("gone"));
        assert!(queue.take(10).is_empty());
    }
}
