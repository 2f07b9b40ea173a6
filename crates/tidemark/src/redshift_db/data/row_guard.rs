//! Keeps a Data API connection from buffering a row too large to return: the driver reads a
//! whole message before handing it over, and a PostgreSQL row can be up to 1 GB. This
//! stream sits between the unix socket and `tokio-postgres`, follows the protocol's
//! message framing (a tag byte and a big-endian length), and while armed drops any
//! `DataRow` whose length alone shows it exceeds the Data API's row limit, byte by byte as
//! it arrives, noting that it did. The statement then fails with AWS's row-size error.
//! Everything else passes through unchanged; memory is two small buffers.
//!
//! The framing is followed from the connection's first byte: no SSL request is sent (the
//! socket is local, `NoTls`), so every server byte belongs to a tagged message.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// PostgreSQL's largest number of columns in a result (`MaxTupleAttributeNumber`).
const MAX_COLUMNS: u32 = 1664;
/// Bytes read from the socket at a time.
const CHUNK: usize = 16 * 1024;

/// What the session and its stream share.
#[derive(Debug)]
pub struct Guard {
    /// Largest `DataRow` length (the length field's value) that may still fit the row
    /// limit: the text limit plus the count and per-column length words.
    max_len: u32,
    armed: AtomicBool,
    tripped: AtomicBool,
}

impl Guard {
    /// A guard for rows of at most `row_bytes` bytes of text.
    pub fn new(row_bytes: usize) -> Arc<Self> {
        let text = u32::try_from(row_bytes).unwrap_or(u32::MAX);
        Arc::new(Self {
            max_len: text.saturating_add(4 + 2 + 4 * MAX_COLUMNS),
            armed: AtomicBool::new(false),
            tripped: AtomicBool::new(false),
        })
    }

    /// Starts (or stops) dropping oversized rows; internal queries run unarmed, so they
    /// always see every row.
    pub fn arm(&self, on: bool) {
        self.tripped.store(false, Ordering::SeqCst);
        self.armed.store(on, Ordering::SeqCst);
    }

    /// Whether a row was dropped since the guard was armed.
    pub fn tripped(&self) -> bool {
        self.tripped.load(Ordering::SeqCst)
    }
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// Reading a message's 5-byte header; `have` bytes of it so far.
    Header { head: [u8; 5], have: usize },
    /// Passing `left` more bytes of the current message through.
    Pass { left: u64 },
    /// Dropping `left` more bytes of an oversized row.
    Skip { left: u64 },
}

const START: State = State::Header {
    head: [0; 5],
    have: 0,
};

/// The socket, seen through the guard.
pub struct Guarded<S> {
    inner: S,
    guard: Arc<Guard>,
    state: State,
    raw: Box<[u8]>,
    /// Bytes let through and not yet handed to the reader, from `ready_at`.
    ready: Vec<u8>,
    ready_at: usize,
}

impl<S> Guarded<S> {
    pub fn new(inner: S, guard: Arc<Guard>) -> Self {
        Self {
            inner,
            guard,
            state: START,
            raw: vec![0; CHUNK].into_boxed_slice(),
            ready: Vec::with_capacity(CHUNK + 5),
            ready_at: 0,
        }
    }

    /// Follows the framing over `n` bytes just read, keeping what passes.
    fn filter(&mut self, n: usize) {
        let mut i = 0;
        while i < n {
            self.state = match self.state {
                State::Header { mut head, mut have } => {
                    head[have] = self.raw[i];
                    have += 1;
                    i += 1;
                    if have < 5 {
                        State::Header { head, have }
                    } else {
                        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
                        let body = u64::from(len.saturating_sub(4));
                        let drop_it = head[0] == b'D'
                            && len > self.guard.max_len
                            && self.guard.armed.load(Ordering::SeqCst);
                        if drop_it {
                            self.guard.tripped.store(true, Ordering::SeqCst);
                        } else {
                            self.ready.extend_from_slice(&head);
                        }
                        match (body, drop_it) {
                            (0, _) => START,
                            (left, true) => State::Skip { left },
                            (left, false) => State::Pass { left },
                        }
                    }
                }
                State::Pass { left } => {
                    let k = usize::try_from(left).unwrap_or(usize::MAX).min(n - i);
                    self.ready.extend_from_slice(&self.raw[i..i + k]);
                    i += k;
                    match left - k as u64 {
                        0 => START,
                        left => State::Pass { left },
                    }
                }
                State::Skip { left } => {
                    let k = usize::try_from(left).unwrap_or(usize::MAX).min(n - i);
                    i += k;
                    match left - k as u64 {
                        0 => START,
                        left => State::Skip { left },
                    }
                }
            };
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = &mut *self;
        loop {
            if me.ready_at < me.ready.len() {
                let k = out.remaining().min(me.ready.len() - me.ready_at);
                out.put_slice(&me.ready[me.ready_at..me.ready_at + k]);
                me.ready_at += k;
                if me.ready_at == me.ready.len() {
                    me.ready.clear();
                    me.ready_at = 0;
                }
                return Poll::Ready(Ok(()));
            }
            let mut buf = ReadBuf::new(&mut me.raw);
            match Pin::new(&mut me.inner).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) => {
                    let n = buf.filled().len();
                    if n == 0 {
                        return Poll::Ready(Ok(())); // end of stream
                    }
                    me.filter(n);
                    // All of it dropped: read on rather than report an end of stream.
                }
                other => return other,
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![tag];
        m.extend_from_slice(&u32::try_from(body.len() + 4).unwrap().to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    /// Reads `input` through a guard in reads of `step` bytes.
    fn through(input: &[u8], armed: bool, step: usize) -> (Vec<u8>, bool) {
        let guard = Guard::new(100);
        guard.arm(armed);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut reader = tokio_test_reader(input, step);
        let out = rt.block_on(async {
            let mut g = Guarded::new(&mut reader, guard.clone());
            let mut out = Vec::new();
            g.read_to_end(&mut out).await.unwrap();
            out
        });
        (out, guard.tripped())
    }

    /// A reader that returns at most `step` bytes per read, to split headers across reads.
    fn tokio_test_reader(input: &[u8], step: usize) -> Trickle {
        Trickle {
            data: input.to_vec(),
            at: 0,
            step,
        }
    }

    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl AsyncRead for Trickle {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            out: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let k = self
                .step
                .min(self.data.len() - self.at)
                .min(out.remaining());
            let at = self.at;
            out.put_slice(&self.data[at..at + k]);
            self.at += k;
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn oversized_rows_are_dropped_only_while_armed() {
        let small = msg(b'D', &[7; 50]);
        let huge = msg(b'D', &vec![9; 100 + 6 + 4 * 1664 + 1]);
        let other = msg(b'C', &vec![1; 20_000]);
        let input = [small.clone(), huge.clone(), other.clone(), small.clone()].concat();
        for step in [1, 3, 5, 4096, 1 << 20] {
            let (out, tripped) = through(&input, true, step);
            assert_eq!(out, [small.clone(), other.clone(), small.clone()].concat());
            assert!(tripped, "step {step}");
            let (out, tripped) = through(&input, false, step);
            assert_eq!(out, input, "step {step}");
            assert!(!tripped);
        }
    }

    #[test]
    fn a_row_at_the_bound_passes() {
        let edge = msg(b'D', &vec![1; 100 + 2 + 4 * 1664]);
        let (out, tripped) = through(&edge, true, 7);
        assert_eq!(out, edge);
        assert!(!tripped);
    }
}
