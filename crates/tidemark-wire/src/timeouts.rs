//! Per-connection deadlines: a request's header must arrive within the header timeout, an
//! idle kept-alive connection lives for the idle timeout, a request body must keep up a
//! minimum rate, and a response the client stops reading is dropped after the idle timeout.
//!
//! hyper's own `header_read_timeout` starts when hyper begins waiting for a request, so on
//! a kept-alive connection it would also be the idle limit; the I/O wrapper here tells the
//! two apart by asking the service which phase the connection is in.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Where a connection is between requests; shared by its I/O and its service.
#[derive(Clone, Debug, Default)]
pub(crate) struct Phase(Arc<PhaseInner>);

#[derive(Debug, Default)]
struct PhaseInner {
    /// Requests being served: one at a time on HTTP/1, any number of streams on HTTP/2.
    in_flight: AtomicUsize,
    /// `HEAD` or `IDLE`: what the connection waits for when nothing is in flight. The
    /// last request to finish sets `IDLE` before it leaves, so the two never disagree.
    between: AtomicU8,
    /// The connection task, as last parked in a read.
    reader: Mutex<Option<Waker>>,
}

/// Waiting for (the rest of) a request header: the header timeout runs.
const HEAD: u8 = 0;
/// A request is being served; its body has its own deadline, the handler none.
const SERVING: u8 = 1;
/// The response was handed over; waiting for the next request: the idle timeout runs.
const IDLE: u8 = 2;

/// A request in flight; dropping it (answered, or abandoned with its connection or
/// stream) counts it out.
pub(crate) struct Serving(Phase);

impl Drop for Serving {
    fn drop(&mut self) {
        let inner = &(self.0).0;
        inner.between.store(IDLE, Ordering::Release);
        if inner.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            // hyper may not read again after a response until woken, and the idle
            // deadline must start now.
            let parked = inner
                .reader
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(waker) = parked {
                waker.wake();
            }
        }
    }
}

impl Phase {
    /// A new connection waits for its first header.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn serving(&self) -> Serving {
        self.0.in_flight.fetch_add(1, Ordering::AcqRel);
        Serving(self.clone())
    }

    fn get(&self) -> u8 {
        if self.0.in_flight.load(Ordering::Acquire) > 0 {
            SERVING
        } else {
            self.0.between.load(Ordering::Acquire)
        }
    }

    /// The first bytes of a new request end the idle phase.
    fn head_started(&self) -> bool {
        self.0
            .between
            .compare_exchange(IDLE, HEAD, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn park_reader(&self, waker: &Waker) {
        let mut slot = self.0.reader.lock().unwrap_or_else(PoisonError::into_inner);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }
}

/// Wraps a connection's byte stream (TCP, or TLS above TCP) and fails a read that waits
/// past the current phase's deadline, or a write the peer has not drained for `idle`.
pub(crate) struct TimedIo<T> {
    inner: T,
    phase: Phase,
    /// The phase the read deadline was last armed for.
    armed_for: u8,
    header: Duration,
    idle: Duration,
    read_deadline: Pin<Box<Sleep>>,
    /// Armed while a write is blocked on the peer; cleared by any progress.
    write_deadline: Option<Pin<Box<Sleep>>>,
}

impl<T> TimedIo<T> {
    pub(crate) fn new(inner: T, phase: Phase, header: Duration, idle: Duration) -> Self {
        Self {
            inner,
            phase,
            armed_for: HEAD,
            header,
            idle,
            read_deadline: Box::pin(tokio::time::sleep(header)),
            write_deadline: None,
        }
    }

    fn rearm_read(&mut self, phase: u8) {
        self.armed_for = phase;
        let limit = if phase == IDLE {
            self.idle
        } else {
            self.header
        };
        self.read_deadline.as_mut().reset(Instant::now() + limit);
    }

    fn write_stalled(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let idle = self.idle;
        let deadline = self
            .write_deadline
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
        ready!(deadline.as_mut().poll(cx));
        Poll::Ready(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client read nothing of the response within the idle timeout",
        ))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before && this.phase.head_started() {
                    this.rearm_read(HEAD);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                // Parked on every wait, not only while serving: after a bodiless request
                // hyper may not read again before the response, yet must be woken to
                // start the idle deadline once the response is handed over.
                this.phase.park_reader(cx.waker());
                let phase = this.phase.get();
                if phase == SERVING {
                    // hyper may poll for the body or for a closed peer: not our deadline.
                    this.armed_for = SERVING;
                    return Poll::Pending;
                }
                if phase != this.armed_for {
                    this.rearm_read(phase);
                }
                ready!(this.read_deadline.as_mut().poll(cx));
                let what = if phase == IDLE {
                    "idle connection closed after the idle timeout"
                } else {
                    "request header not received within the header timeout"
                };
                Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)))
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Pending => this.write_stalled(cx).map(Err),
            done => {
                this.write_deadline = None;
                done
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Pending => this.write_stalled(cx).map(Err),
            done => {
                this.write_deadline = None;
                done
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.write_stalled(cx).map(Err),
            done => {
                this.write_deadline = None;
                done
            }
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Why a request body stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    #[error("request body too slow: {received} bytes in {elapsed:?}")]
    TooSlow { received: u64, elapsed: Duration },
    #[error("reading the request body: {0}")]
    Read(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A request body that must arrive within `base` plus one second per `min_rate` bytes
/// received (Apache mod_reqtimeout's `body=N,MinRate=R` rule): a large body on a slow but
/// steady link always gets there, while a trickle is cut off after about `base`.
pub(crate) struct RateLimitedBody<B> {
    inner: B,
    start: Instant,
    base: Duration,
    min_rate: u64,
    received: u64,
    deadline: Pin<Box<Sleep>>,
}

impl<B> RateLimitedBody<B> {
    pub(crate) fn new(inner: B, base: Duration, min_rate: u64) -> Self {
        let start = Instant::now();
        Self {
            inner,
            start,
            base,
            min_rate,
            received: 0,
            deadline: Box::pin(tokio::time::sleep_until(start + base)),
        }
    }

    fn allowance(&self) -> Duration {
        if self.min_rate == 0 {
            return self.base;
        }
        let millis = self.received.saturating_mul(1000) / self.min_rate;
        self.base.saturating_add(Duration::from_millis(millis))
    }
}

impl<B> Body for RateLimitedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received = this.received.saturating_add(data.len() as u64);
                    let deadline = this.start + this.allowance();
                    this.deadline.as_mut().reset(deadline);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(BodyError::Read(e.into())))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                ready!(this.deadline.as_mut().poll(cx));
                Poll::Ready(Some(Err(BodyError::TooSlow {
                    received: this.received,
                    elapsed: this.start.elapsed(),
                })))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const HEADER: Duration = Duration::from_secs(30);
    const IDLE: Duration = Duration::from_secs(60);

    fn timed(phase: &Phase) -> (TimedIo<tokio::io::DuplexStream>, tokio::io::DuplexStream) {
        let (server, client) = tokio::io::duplex(64);
        (TimedIo::new(server, phase.clone(), HEADER, IDLE), client)
    }

    async fn read_error_after(io: &mut TimedIo<tokio::io::DuplexStream>) -> Duration {
        let start = Instant::now();
        let mut buf = [0u8; 16];
        loop {
            match io.read(&mut buf).await {
                Ok(0) => panic!("end of stream, not a timeout"),
                Ok(_) => {}
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::TimedOut);
                    return start.elapsed();
                }
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_connection_gets_the_header_timeout() {
        let phase = Phase::new();
        let (mut io, _client) = timed(&phase);
        assert_eq!(read_error_after(&mut io).await, HEADER);
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_response_the_idle_timeout_runs_and_a_new_request_restarts_the_header_one() {
        let phase = Phase::new();
        let (mut io, mut client) = timed(&phase);
        drop(phase.serving());
        tokio::time::sleep(HEADER + Duration::from_secs(1)).await;
        // Still open past the header timeout: idle connections get the idle timeout.
        client.write_all(b"GET").await.expect("write");
        let mut buf = [0u8; 16];
        assert_eq!(io.read(&mut buf).await.expect("read"), 3);
        // The first bytes of a request started the header timeout afresh.
        assert_eq!(read_error_after(&mut io).await, HEADER);

        let phase = Phase::new();
        let (mut io, _client) = timed(&phase);
        drop(phase.serving());
        assert_eq!(read_error_after(&mut io).await, IDLE);
    }

    #[tokio::test(start_paused = true)]
    async fn no_read_deadline_while_a_request_is_served() {
        let phase = Phase::new();
        let (mut io, _client) = timed(&phase);
        let _serving = phase.serving();
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(IDLE * 10, io.read(&mut buf)).await;
        assert!(read.is_err(), "a handler may take long: {read:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn http2_streams_are_counted_so_one_finishing_does_not_idle_another() {
        let phase = Phase::new();
        let (mut io, _client) = timed(&phase);
        let first = phase.serving();
        let second = phase.serving();
        drop(first);
        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(IDLE * 2, io.read(&mut buf)).await;
        assert!(read.is_err(), "a stream is still in flight: {read:?}");
        drop(second);
        assert_eq!(read_error_after(&mut io).await, IDLE);
    }

    #[tokio::test(start_paused = true)]
    async fn a_response_left_unread_fails_after_the_idle_timeout() {
        let phase = Phase::new();
        let (mut io, _client) = timed(&phase);
        let start = Instant::now();
        // The duplex buffer holds 64 bytes; the client reads none of them.
        let err = io.write_all(&[b'x'; 1024]).await.expect_err("write stalls");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(start.elapsed(), IDLE);
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickled_body_is_cut_after_the_base_time_and_a_steady_one_is_not() {
        // 1 byte per second against a 1,000 bytes/s minimum: cut at ~10 s.
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let trickle = tokio::spawn(async move {
            for _ in 0..60 {
                if tx.send(Bytes::from_static(b"a")).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        let mut body = RateLimitedBody::new(Chunks(rx), Duration::from_secs(10), 1000);
        let start = Instant::now();
        let err = loop {
            match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
                Some(Ok(_)) => {}
                Some(Err(e)) => break e,
                None => panic!("the body ended"),
            }
        };
        assert!(matches!(err, BodyError::TooSlow { .. }), "{err}");
        assert!(
            start.elapsed() <= Duration::from_secs(11),
            "{:?}",
            start.elapsed()
        );
        trickle.abort();

        // 4,000 bytes in 2 s, beyond the base, keeps within 1 + 1 s per 1,000 bytes.
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let steady = tokio::spawn(async move {
            for _ in 0..20 {
                let _ = tx.send(Bytes::from_static(&[b'b'; 200])).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        let mut body = RateLimitedBody::new(Chunks(rx), Duration::from_secs(1), 1000);
        let mut received = 0;
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let frame = frame.expect("a steady body is not cut");
            received += frame.data_ref().map_or(0, Bytes::len);
        }
        assert_eq!(received, 4000);
        steady.await.expect("sender");
    }

    /// A body fed by a channel, ending when the sender is dropped.
    struct Chunks(tokio::sync::mpsc::Receiver<Bytes>);

    impl Body for Chunks {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            self.0.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b))))
        }
    }

    #[tokio::test]
    async fn the_allowance_grows_one_second_per_min_rate_bytes() {
        let mut body = RateLimitedBody {
            inner: (),
            start: Instant::now(),
            base: Duration::from_secs(30),
            min_rate: 16 * 1024,
            received: 0,
            deadline: Box::pin(tokio::time::sleep(Duration::ZERO)),
        };
        assert_eq!(body.allowance(), Duration::from_secs(30));
        body.received = 17 * 1024 * 1024;
        // 17 MiB at 16 KiB/s: 1,088 s on top of the base.
        assert_eq!(body.allowance(), Duration::from_secs(30 + 1088));
        body.min_rate = 0;
        assert_eq!(body.allowance(), Duration::from_secs(30));
    }
}
