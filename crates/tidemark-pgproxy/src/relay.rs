//! The relay after startup. Backend → client is a plain byte copy. Client → backend is framed
//! into messages so that `Query` and `Parse` can be rewritten; every other message is copied
//! through as it streams in, however large. Each direction writes once per read, so a batch of
//! pipelined messages costs one system call each way and nothing is flushed per message.

use std::io;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Semaphore;

use crate::{Limits, Route, rewrite};

/// Read buffer per direction; also the largest `Query`/`Parse` assembled in place.
pub(crate) const BUF: usize = 64 * 1024;

/// Relays until either side closes, then drops (closes) both.
pub(crate) async fn run<CR, CW, BR, BW>(
    client_rd: CR,
    client_wr: CW,
    backend_rd: BR,
    backend_wr: BW,
    route: &Arc<dyn Route>,
    limits: &Limits,
    budget: &Semaphore,
) -> io::Result<()>
where
    CR: AsyncRead + Unpin,
    CW: AsyncWrite + Unpin,
    BR: AsyncRead + Unpin,
    BW: AsyncWrite + Unpin,
{
    tokio::select! {
        r = upstream(client_rd, backend_wr, route, limits, budget) => r,
        r = copy(backend_rd, client_wr) => r,
    }
}

/// Backend → client, byte for byte.
async fn copy<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(mut rd: R, mut wr: W) -> io::Result<()> {
    let mut buf = vec![0; BUF];
    loop {
        let n = rd.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        wr.write_all(&buf[..n]).await?;
        // A no-op on TCP; TLS may hold the record until flushed.
        wr.flush().await?;
    }
}

/// Where the framer stands in the client's byte stream.
enum State {
    /// At a message boundary.
    Boundary,
    /// Copying the rest of a message through.
    Pass(usize),
    /// Dropping the rest of a statement too large to buffer.
    Skip(usize),
    /// The client sent a length below 4: PostgreSQL will report the violation and close, and
    /// we can no longer find boundaries, so everything is copied from here on.
    Raw,
}

/// Client → backend, rewriting `Query` and `Parse`.
pub(crate) async fn upstream<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    mut client: R,
    mut backend: W,
    route: &Arc<dyn Route>,
    limits: &Limits,
    budget: &Semaphore,
) -> io::Result<()> {
    let mut buf = vec![0; BUF];
    let (mut start, mut end) = (0, 0);
    let mut out: Vec<u8> = Vec::with_capacity(BUF + 256);
    let mut state = State::Boundary;
    loop {
        loop {
            let avail = end - start;
            match state {
                State::Raw => {
                    out.extend_from_slice(&buf[start..end]);
                    start = end;
                    break;
                }
                State::Pass(left) => {
                    let n = left.min(avail);
                    out.extend_from_slice(&buf[start..start + n]);
                    start += n;
                    if n < left {
                        state = State::Pass(left - n);
                        break;
                    }
                    state = State::Boundary;
                }
                State::Skip(left) => {
                    let n = left.min(avail);
                    start += n;
                    if n < left {
                        state = State::Skip(left - n);
                        break;
                    }
                    state = State::Boundary;
                }
                State::Boundary => {
                    if avail < 5 {
                        break;
                    }
                    let ty = buf[start];
                    let len = u32::from_be_bytes([
                        buf[start + 1],
                        buf[start + 2],
                        buf[start + 3],
                        buf[start + 4],
                    ]);
                    let len = usize::try_from(len).unwrap_or(usize::MAX);
                    if len < 4 {
                        state = State::Raw;
                        continue;
                    }
                    let total = len.saturating_add(1);
                    if !matches!(ty, b'Q' | b'P') {
                        state = State::Pass(total);
                        continue;
                    }
                    // A statement larger than the read buffer is assembled on the side, within
                    // the listener's budget for such statements.
                    let size = len - 4;
                    let fits = size <= limits.max_statement_bytes;
                    let permit = if fits && total > buf.len() {
                        Some(budget.try_acquire_many(u32::try_from(total).unwrap_or(u32::MAX)))
                    } else {
                        None
                    };
                    let refusal = if !fits {
                        Some(rewrite::too_large(size, limits.max_statement_bytes))
                    } else if matches!(permit, Some(Err(_))) {
                        Some(rewrite::no_memory(size))
                    } else {
                        None
                    };
                    if let Some(err) = refusal {
                        if ty == b'Q' {
                            rewrite::refused_query(&mut out, &err);
                        } else {
                            rewrite::refused_parse(
                                &mut out,
                                statement_name(&buf[start + 5..end]),
                                &err,
                            );
                        }
                        state = State::Skip(total);
                        continue;
                    }
                    if avail >= total {
                        rewrite_message(&**route, &buf[start..start + total], &mut out);
                        start += total;
                        continue;
                    }
                    if total <= buf.len() {
                        break;
                    }
                    // Larger than the buffer (but within the limit): assemble it on the side,
                    // growing only as bytes arrive, so a lying length costs nothing up front.
                    if !out.is_empty() {
                        backend.write_all(&out).await?;
                        out.clear();
                    }
                    let mut msg = Vec::with_capacity(2 * BUF);
                    msg.extend_from_slice(&buf[start..end]);
                    start = end;
                    while msg.len() < total {
                        let old = msg.len();
                        msg.resize(old + (total - old).min(BUF), 0);
                        let n = client.read(&mut msg[old..]).await?;
                        if n == 0 {
                            return Ok(());
                        }
                        msg.truncate(old + n);
                    }
                    // Parsing a statement this large may take a while: off the async workers.
                    let route = Arc::clone(route);
                    let rewritten = tokio::task::spawn_blocking(move || {
                        let mut out = Vec::new();
                        rewrite_message(&*route, &msg, &mut out);
                        out
                    })
                    .await
                    .map_err(io::Error::other)?;
                    out.extend_from_slice(&rewritten);
                    drop(permit);
                }
            }
        }
        if !out.is_empty() {
            backend.write_all(&out).await?;
            out.clear();
            // A large rewritten statement must not pin its memory for the session's life.
            out.shrink_to(4 * BUF);
        }
        if start == end {
            (start, end) = (0, 0);
        } else if start > 0 {
            buf.copy_within(start..end, 0);
            (start, end) = (0, end - start);
        }
        let n = client.read(&mut buf[end..]).await?;
        if n == 0 {
            return Ok(());
        }
        end += n;
    }
}

fn rewrite_message(route: &dyn Route, msg: &[u8], out: &mut Vec<u8>) {
    if msg[0] == b'Q' {
        rewrite::query(route, msg, out);
    } else {
        rewrite::parse(route, msg, out);
    }
}

/// A `Parse`'s statement name, if its end is within the bytes at hand.
fn statement_name(body: &[u8]) -> &[u8] {
    body.iter()
        .position(|&b| b == 0)
        .map_or(&[], |end| &body[..end])
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use proptest::prelude::*;
    use tokio::io::ReadBuf;

    use super::*;
    use crate::{BackendError, Login, LoginError, SqlError, wire};

    /// Upper-cases SQL starting with `r`, passes the rest.
    struct Upper;

    impl Route for Upper {
        fn login(&self, _: &str, _: &str) -> Result<Login, LoginError> {
            Err(LoginError::UnknownUser)
        }
        fn backend(&self) -> Result<std::path::PathBuf, BackendError> {
            Err(BackendError("none".into()))
        }
        fn rewrite(&self, sql: &str) -> Result<Option<String>, SqlError> {
            Ok(sql.starts_with('r').then(|| sql.to_uppercase()))
        }
    }

    /// Yields its bytes in the given chunk sizes, cycling.
    struct Chunked {
        data: Vec<u8>,
        pos: usize,
        chunks: Vec<usize>,
        turn: usize,
    }

    impl AsyncRead for Chunked {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = &mut *self;
            let want = this.chunks[this.turn % this.chunks.len()];
            this.turn += 1;
            let n = want.min(buf.remaining()).min(this.data.len() - this.pos);
            buf.put_slice(&this.data[this.pos..this.pos + n]);
            this.pos += n;
            Poll::Ready(Ok(()))
        }
    }

    fn message(ty: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![ty];
        m.extend_from_slice(
            &u32::try_from(body.len() + 4)
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        m.extend_from_slice(body);
        m
    }

    const LIMIT: usize = 100_000;

    /// One client message and what the backend must receive for it.
    fn case(kind: u8, size: usize) -> (Vec<u8>, Vec<u8>) {
        let lead = if size.is_multiple_of(2) { 'r' } else { 's' };
        let sql: String = std::iter::once(lead)
            .chain(std::iter::repeat_n('x', size))
            .collect();
        let mut expected = Vec::new();
        let sent = match kind {
            0 => {
                let mut body = sql.clone().into_bytes();
                body.push(0);
                let m = message(b'Q', &body);
                if body.len() > LIMIT {
                    rewrite::refused_query(&mut expected, &rewrite::too_large(body.len(), LIMIT));
                } else if lead == 'r' {
                    wire::query(&mut expected, &sql.to_uppercase());
                } else {
                    expected = m.clone();
                }
                m
            }
            1 => {
                let mut m = Vec::new();
                wire::parse(&mut m, b"st", &sql, &[23]);
                if m.len() - 5 > LIMIT {
                    rewrite::refused_parse(
                        &mut expected,
                        b"st",
                        &rewrite::too_large(m.len() - 5, LIMIT),
                    );
                } else if lead == 'r' {
                    wire::parse(&mut expected, b"st", &sql.to_uppercase(), &[23]);
                } else {
                    expected = m.clone();
                }
                m
            }
            // CopyData, Bind, Sync: copied as they are, whatever their size.
            2 => message(b'd', &vec![7; size]),
            3 => message(b'B', &vec![1; size % 300]),
            _ => message(b'S', &[]),
        };
        if expected.is_empty() {
            expected = sent.clone();
        }
        (sent, expected)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        // Framing holds whatever the read boundaries: headers split across reads, statements
        // larger than the buffer, statements past the limit dropped while streaming.
        #[test]
        fn relay_frames_and_rewrites_across_any_read_boundaries(
            msgs in proptest::collection::vec((0u8..5, 0usize..150_000), 1..12),
            chunks in proptest::collection::vec(1usize..90_000, 1..6),
        ) {
            let mut input = Vec::new();
            let mut expected = Vec::new();
            for (kind, size) in msgs {
                let (sent, want) = case(kind, size);
                input.extend_from_slice(&sent);
                expected.extend_from_slice(&want);
            }
            let client = Chunked { data: input, pos: 0, chunks, turn: 0 };
            let mut backend = Vec::new();
            let limits = Limits { max_statement_bytes: LIMIT, ..Limits::default() };
            let route: Arc<dyn Route> = Arc::new(Upper);
            let rt = tokio::runtime::Builder::new_current_thread().build();
            prop_assert!(rt.is_ok());
            if let Ok(rt) = rt {
                let r = rt.block_on(upstream(client, &mut backend, &route, &limits, &Semaphore::new(1 << 20)));
                prop_assert!(r.is_ok());
            }
            prop_assert!(backend == expected, "backend got {} bytes, expected {}", backend.len(), expected.len());
        }
    }
}
