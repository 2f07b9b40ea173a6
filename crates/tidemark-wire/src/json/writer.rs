//! The writer thread behind `json::call`'s item writes: one thread runs them back to back,
//! each inside `tidemark_store::defer_durability`, so its commits return as soon as they are
//! visible, and releases their responses only after the fsync covering a batch of them.
//! One thread executing writes avoids a thread hand-off (and a futex wake-up) per write at
//! the store's write lock, and on disk many writes share one fsync. A response is never
//! sent before the commit it reports is durable. Writes with a large body (256 KiB or more)
//! are the exception: they run on a blocking thread of their own, so the seconds their
//! handler spends converting items do not hold up the small writes queued here.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, OnceLock};

use serde_json::Value;
use tidemark_core::RequestContext;
use tidemark_model::DispatchError;
use tidemark_model::dispatch::{Document, with_document};
use tidemark_model::dynamodb::{DynamoDbApi, PreparedDynamoDbApi, prepare_dynamodb};
use tidemark_store::{PendingDurability, defer_durability};
use tokio::sync::oneshot;

/// `None` means an internal failure (panic, or the flush failed): the caller answers 500.
type Reply = oneshot::Sender<Option<Result<Value, DispatchError>>>;

struct Job {
    api: Arc<dyn DynamoDbApi>,
    ctx: RequestContext,
    call: PreparedDynamoDbApi,
    reply: Reply,
}

/// A write's answer on its way to the flusher, with the commits it must wait for.
struct Done {
    reply: Reply,
    result: Option<Result<Value, DispatchError>>,
    pending: PendingDurability,
}

/// The process-wide writer queue (threads start on first use). One queue for every
/// server in the process: writes to different stores only queue behind each other.
fn queue() -> Option<Sender<Job>> {
    static QUEUE: OnceLock<Option<Sender<Job>>> = OnceLock::new();
    QUEUE
        .get_or_init(|| {
            let (jobs_tx, jobs_rx) = channel::<Job>();
            let (done_tx, done_rx) = channel::<Done>();
            let held = Arc::new(AtomicUsize::new(0));
            let flusher_held = Arc::clone(&held);
            std::thread::Builder::new()
                .name("tidemark-flusher".into())
                .spawn(move || run_flushes(&done_rx, &flusher_held))
                .ok()?;
            std::thread::Builder::new()
                .name("tidemark-writer".into())
                .spawn(move || run_writes(&jobs_rx, &done_tx, &held))
                .ok()
                .map(|_| jobs_tx)
        })
        .clone()
}

/// Runs one write on the writer thread; `None` on an internal failure. The input is
/// decoded and validated here, on the caller's thread, so the writer thread only runs the
/// write itself (and an invalid input never waits behind other writes).
///
/// A large body (see [`super::LARGE_BODY`]) skips the writer: it is decoded and run on a
/// blocking thread and waits for its own durability, as a write outside the writer always
/// did. The handlers convert and check items inside the call (seconds for 16 MB in a debug
/// build), and on the writer thread every small write queued behind that.
pub(super) async fn submit(
    api: Arc<dyn DynamoDbApi>,
    ctx: RequestContext,
    op: &str,
    doc: Document,
) -> Option<Result<Value, DispatchError>> {
    if doc.text().len() >= super::LARGE_BODY {
        let op = op.to_owned();
        return tokio::task::spawn_blocking(move || {
            let call = with_document(doc, || prepare_dynamodb(&op, Value::Null))?;
            call(&*api, &ctx)
        })
        .await
        .inspect_err(|e| tracing::error!(error = %e, "large write panicked"))
        .ok();
    }
    let call = match with_document(doc, || prepare_dynamodb(op, Value::Null)) {
        Ok(call) => call,
        Err(e) => return Some(Err(e)),
    };
    let (reply, answer) = oneshot::channel();
    let job = Job {
        api,
        ctx,
        call,
        reply,
    };
    match queue() {
        Some(q) => q.send(job).ok()?,
        // Threads could not start: run it here, waiting for its own durability.
        None => {
            let Job { api, ctx, call, .. } = job;
            return Some(call(&*api, &ctx));
        }
    }
    answer.await.ok().flatten()
}

/// Most answers held back for one flush; past this the writer flushes even though more
/// writes are queued, bounding their latency.
const MAX_BATCH: usize = 256;

/// Answers whose commits wait for the next flush, and those commits.
#[derive(Default)]
struct Batch {
    replies: Vec<(Reply, Option<Result<Value, DispatchError>>)>,
    pending: PendingDurability,
}

impl Batch {
    /// Waits for one flush covering every held commit, then answers them all (an
    /// internal error for all if the flush failed).
    fn flush(&mut self) {
        let durable = std::mem::take(&mut self.pending).wait();
        if let Err(e) = &durable {
            tracing::error!(error = %e, "flushing commits failed; their writes answer 500");
        }
        for (reply, result) in self.replies.drain(..) {
            let _ = reply.send(durable.as_ref().ok().and(result));
        }
    }
}

/// Runs queued writes back to back (each commit visible, not yet durable) and passes each
/// answer to the flusher. An answer that committed nothing goes straight back only while
/// the flusher holds nothing: otherwise it joins the flusher's queue behind the others, even
/// though it waits for no commit of its own (a failed condition may reveal a not-yet-durable
/// item), so no answer ever reports state that a crash could still undo.
fn run_writes(jobs: &Receiver<Job>, done: &Sender<Done>, held: &AtomicUsize) {
    while let Ok(job) = jobs.recv() {
        let Job {
            api,
            ctx,
            call,
            reply,
        } = job;
        let (result, pending) =
            defer_durability(|| catch_unwind(AssertUnwindSafe(|| call(&*api, &ctx))).ok());
        // `held` counts answers passed to the flusher and not yet released: zero means every
        // earlier answer, and so every commit they waited for, is released.
        if pending.is_empty() && held.load(Ordering::Acquire) == 0 {
            let _ = reply.send(result);
            continue;
        }
        held.fetch_add(1, Ordering::AcqRel);
        let item = Done {
            reply,
            result,
            pending,
        };
        if let Err(unsent) = done.send(item) {
            // The flusher is gone (it cannot exit while we hold its sender): wait here.
            let Done {
                reply,
                result,
                pending,
            } = unsent.0;
            let durable = pending.wait();
            let _ = reply.send(durable.ok().and(result));
            held.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Group commit: takes every answer the writer has passed on so far (up to
/// [`MAX_BATCH`]), waits for one fsync covering all their commits, answers them, and
/// starts over. Batches are released in order, so no answer is released before the
/// commits of earlier answers are durable. The writer goes on running writes meanwhile;
/// they form the next batch.
fn run_flushes(done: &Receiver<Done>, held: &AtomicUsize) {
    let mut batch = Batch::default();
    while let Ok(first) = done.recv() {
        let mut next = Some(first);
        while let Some(item) = next.take() {
            batch.pending.merge(item.pending);
            batch.replies.push((item.reply, item.result));
            if batch.replies.len() < MAX_BATCH {
                next = done.try_recv().ok();
            }
        }
        let answered = batch.replies.len();
        batch.flush();
        held.fetch_sub(answered, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests' requests as the server sends them: `body` is `input`'s text, parsed into
    /// its document.
    async fn submit(
        api: Arc<dyn DynamoDbApi>,
        ctx: RequestContext,
        op: &str,
        input: Value,
        body: bytes::Bytes,
    ) -> Option<Result<Value, DispatchError>> {
        assert_eq!(serde_json::from_slice::<Value>(&body).ok(), Some(input));
        let doc = Document::parse(body).expect("test bodies are JSON objects");
        super::submit(api, ctx, op, doc).await
    }

    /// Item writes run on the one writer thread, several at once all get their answers, and
    /// a panicking handler answers an internal error without stopping the writer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn item_writes_run_on_the_writer_thread() {
        use std::sync::{Arc, Mutex};
        use tidemark_model::OpError;
        use tidemark_model::dynamodb::{
            DeleteItemError, DeleteItemInput, DeleteItemOutput, DynamoDbApi, PutItemError,
            PutItemInput, PutItemOutput,
        };

        #[derive(Default)]
        struct Fake(Mutex<Vec<String>>);
        impl DynamoDbApi for Fake {
            fn put_item(
                &self,
                _: &RequestContext,
                _: PutItemInput,
            ) -> Result<PutItemOutput, OpError<PutItemError>> {
                let name = std::thread::current().name().unwrap_or("?").to_owned();
                self.0.lock().unwrap().push(name);
                Ok(PutItemOutput::default())
            }
            fn delete_item(
                &self,
                _: &RequestContext,
                _: DeleteItemInput,
            ) -> Result<DeleteItemOutput, OpError<DeleteItemError>> {
                panic!("handler bug")
            }
        }
        let fake = Arc::new(Fake::default());
        let api: Arc<dyn DynamoDbApi> = fake.clone();
        let ctx = RequestContext::new(
            tidemark_core::AccountId::parse("123456789012").unwrap(),
            "us-east-1",
            "rid",
        );
        let input = || serde_json::json!({"TableName": "t", "Item": {"k": {"S": "v"}}});
        let text = || bytes::Bytes::from(input().to_string());
        let calls = (0..8).map(|_| submit(api.clone(), ctx.clone(), "PutItem", input(), text()));
        for answer in futures_join_all(calls).await {
            assert!(matches!(answer, Some(Ok(_))), "every write is answered");
        }
        assert_eq!(
            *fake.0.lock().unwrap(),
            vec!["tidemark-writer".to_owned(); 8]
        );
        let key = serde_json::json!({"TableName": "t", "Key": {"k": {"S": "v"}}});
        let key_text = bytes::Bytes::from(key.to_string());
        assert!(
            submit(api.clone(), ctx.clone(), "DeleteItem", key, key_text)
                .await
                .is_none()
        );
        let again = submit(api, ctx, "PutItem", input(), text()).await;
        assert!(
            matches!(again, Some(Ok(_))),
            "the writer survived the panic"
        );
    }

    /// A large write runs off the writer thread, so small writes submitted while it is in
    /// its handler are answered without waiting for it (before, they queued behind it).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn large_writes_do_not_hold_up_small_ones() {
        use std::sync::Arc;
        use std::time::{Duration, Instant};
        use tidemark_model::OpError;
        use tidemark_model::dynamodb::{DynamoDbApi, PutItemError, PutItemInput, PutItemOutput};

        /// Takes 2 s for the table named "big", like a handler converting 16 MB in a debug
        /// build.
        struct Slow;
        impl DynamoDbApi for Slow {
            fn put_item(
                &self,
                _: &RequestContext,
                input: PutItemInput,
            ) -> Result<PutItemOutput, OpError<PutItemError>> {
                if input.table_name.as_deref() == Some("big") {
                    std::thread::sleep(Duration::from_secs(2));
                }
                Ok(PutItemOutput::default())
            }
        }
        let api: Arc<dyn DynamoDbApi> = Arc::new(Slow);
        let ctx = RequestContext::new(
            tidemark_core::AccountId::parse("123456789012").unwrap(),
            "us-east-1",
            "rid",
        );
        let padding = "x".repeat(super::super::LARGE_BODY);
        let big = serde_json::json!({"TableName": "big", "Item": {"k": {"S": padding}}});
        let big_text = bytes::Bytes::from(big.to_string());
        let slow = tokio::spawn(submit(api.clone(), ctx.clone(), "PutItem", big, big_text));
        tokio::time::sleep(Duration::from_millis(100)).await;
        let small = serde_json::json!({"TableName": "small", "Item": {"k": {"S": "v"}}});
        let small_text = bytes::Bytes::from(small.to_string());
        let started = Instant::now();
        let answer = submit(api, ctx, "PutItem", small, small_text).await;
        assert!(matches!(answer, Some(Ok(_))));
        // Generous: another test's panic can keep the writer busy printing a backtrace.
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the small write waited {:?}",
            started.elapsed()
        );
        assert!(!slow.is_finished(), "answered before the large write");
        assert!(matches!(slow.await.unwrap(), Some(Ok(_))));
    }

    /// `join_all` without the futures crate: spawn each and await in order.
    async fn futures_join_all<F>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handles: Vec<_> = futs.map(tokio::spawn).collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }
}
