//! The relay after startup. Backend → client is a plain byte copy. Client → backend is framed
//! into messages so that `Query` and `Parse` can be rewritten; every other message is copied
//! through as it streams in, however large. Each direction writes once per read, so a batch of
//! pipelined messages costs one system call each way and nothing is flushed per message.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::{Limits, Route, rewrite};

/// Read buffer per direction; also the largest `Query`/`Parse` assembled in place.
const BUF: usize = 64 * 1024;

/// Relays until either side closes, then drops (closes) both.
pub(crate) async fn run<CR, CW, BR, BW>(
    client_rd: CR,
    client_wr: CW,
    backend_rd: BR,
    backend_wr: BW,
    route: &dyn Route,
    limits: &Limits,
) -> io::Result<()>
where
    CR: AsyncRead + Unpin,
    CW: AsyncWrite + Unpin,
    BR: AsyncRead + Unpin,
    BW: AsyncWrite + Unpin,
{
    tokio::select! {
        r = upstream(client_rd, backend_wr, route, limits) => r,
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
async fn upstream<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    mut client: R,
    mut backend: W,
    route: &dyn Route,
    limits: &Limits,
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
                State::Pass(left) | State::Skip(left) => {
                    let n = left.min(avail);
                    if matches!(state, State::Pass(_)) {
                        out.extend_from_slice(&buf[start..start + n]);
                    }
                    start += n;
                    if n < left {
                        state = if matches!(state, State::Pass(_)) {
                            State::Pass(left - n)
                        } else {
                            State::Skip(left - n)
                        };
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
                    if len - 4 > limits.max_statement_bytes {
                        let name = if ty == b'P' {
                            statement_name(&buf[start + 5..end])
                        } else {
                            &[]
                        };
                        if ty == b'Q' {
                            rewrite::oversize_query(&mut out, len - 4, limits.max_statement_bytes);
                        } else {
                            rewrite::oversize_parse(
                                &mut out,
                                name,
                                len - 4,
                                limits.max_statement_bytes,
                            );
                        }
                        state = State::Skip(total);
                        continue;
                    }
                    if avail >= total {
                        rewrite_message(route, &buf[start..start + total], &mut out);
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
                    rewrite_message(route, &msg, &mut out);
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
