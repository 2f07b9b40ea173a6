//! Per-connection deadlines: a request's header must arrive within the header timeout, an
//! idle kept-alive connection lives for the idle timeout, a request body must keep up a
//! minimum rate, and a response the client stops reading is dropped after the idle timeout.
//!
//! hyper's own `header_read_timeout` starts when hyper begins waiting for a request, so on
//! a kept-alive connection it would also be the idle limit; the I/O wrapper here tells the
//! two apart by asking the service which phase the connection is in.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
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
    state: AtomicU8,
    /// The connection task, as last parked in a read.
    reader: Mutex<Option<Waker>>,
}

/// Waiting for (the rest of) a request header: the header timeout runs.
const HEAD: u8 = 0;
/// A request is being served; its body has its own deadline, the handler none.
const SERVING: u8 = 1;
/// The response was handed over; waiting for the next request: the idle timeout runs.
const IDLE: u8 = 2;

impl Phase {
    /// A new connection waits for its first header.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn serving(&self) {
        self.0.state.store(SERVING, Ordering::Release);
    }

    pub(crate) fn idle(&self) {
        self.0.state.store(IDLE, Ordering::Release);
        let parked = self
            .0
            .reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(waker) = parked {
            waker.wake();
        }
    }

    fn get(&self) -> u8 {
        self.0.state.load(Ordering::Acquire)
    }

    fn park_reader(&self, waker: &Waker) {
        let mut slot = self.0.reader.lock().unwrap_or_else(PoisonError::into_inner);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }

    /// The first bytes of a new request end the idle phase.
    fn head_started(&self) -> bool {
        self.0
            .state
            .compare_exchange(IDLE, HEAD, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
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
    #[error(transparent)]
    Read(#[from] hyper::Error),
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
    B: Body<Data = Bytes, Error = hyper::Error> + Unpin,
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
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
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
