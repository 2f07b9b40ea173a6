//! The relay on two dedicated threads with blocking sockets, one per direction, for plain-TCP
//! sessions: each round trip then costs one `recv` and one `send` per direction and a wake-up
//! straight from the kernel, instead of an `epoll_wait` and the runtime's task machinery on top
//! (measured in docs/ARCHITECTURE.md, "The Redshift Endpoint").

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::relay;
use crate::session::Shared;

/// The two sockets of a session, shared by its two threads and the task that waits for them.
struct Sockets {
    client: TcpStream,
    backend: UnixStream,
}

impl Sockets {
    /// Ends both directions: a thread blocked on either socket returns at once. Errors only
    /// mean the socket is already shut down or reset, which is the aim anyway.
    fn shutdown(&self) {
        let _ = self.client.shutdown(Shutdown::Both);
        let _ = self.backend.shutdown(Shutdown::Both);
    }
}

/// Shuts both sockets down when the waiting task ends, however it ends (including an abort at
/// listener shutdown), so neither thread outlives its session.
struct ShutdownOnDrop(Arc<Sockets>);

impl Drop for ShutdownOnDrop {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

/// Relays between `client` and `backend` (both already in blocking mode) until either side
/// closes. `pending` is what the backend sent that was already read (written to the client
/// first). The sockets come back if no thread could be started, to be relayed another way.
pub(crate) async fn run(
    client: TcpStream,
    backend: UnixStream,
    pending: Vec<u8>,
    shared: Arc<Shared>,
) -> Option<(TcpStream, UnixStream)> {
    let sockets = Arc::new(Sockets { client, backend });
    let (up_done, up_wait) = tokio::sync::oneshot::channel::<()>();
    let (down_done, down_wait) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::runtime::Handle::current();

    let up = {
        let sockets = Arc::clone(&sockets);
        std::thread::Builder::new()
            .name("pg-relay-up".into())
            .spawn(move || {
                // The framer is async (the TLS relay shares it); over blocking sockets every
                // poll is ready at once, so `block_on` never parks on the runtime. The handle
                // serves the one real await: a huge statement's rewrite on the blocking pool.
                let r = handle.block_on(relay::upstream(
                    Blocking(&sockets.client),
                    Blocking(&sockets.backend),
                    &shared.route,
                    &shared.limits,
                    &shared.statement_budget,
                ));
                if let Err(e) = r {
                    tracing::debug!("session ended: {e}");
                }
                sockets.shutdown();
                let _ = up_done.send(());
            })
    };
    if let Err(e) = up {
        tracing::warn!("could not start a relay thread: {e}");
        // A failed spawn drops its closure, so this is the only reference left.
        return match Arc::try_unwrap(sockets) {
            Ok(s) => Some((s.client, s.backend)),
            Err(s) => {
                s.shutdown();
                None
            }
        };
    }
    let guard = ShutdownOnDrop(Arc::clone(&sockets));
    let down = std::thread::Builder::new()
        .name("pg-relay-down".into())
        .spawn(move || {
            if let Err(e) = copy(&sockets.backend, &sockets.client, &pending) {
                tracing::debug!("session ended: {e}");
            }
            sockets.shutdown();
            let _ = down_done.send(());
        });
    if let Err(e) = down {
        // The upstream thread runs already and cannot hand its sockets back: end the session.
        tracing::warn!("could not start a relay thread: {e}; session closed");
        drop(guard);
    }
    // A sender dropped without sending (a thread that panicked, or was never started) also
    // ends its wait.
    let _ = up_wait.await;
    let _ = down_wait.await;
    None
}

/// Backend → client, byte for byte, after the bytes already read.
fn copy(mut backend: &UnixStream, mut client: &TcpStream, pending: &[u8]) -> io::Result<()> {
    client.write_all(pending)?;
    let mut buf = vec![0; relay::BUF];
    loop {
        let n = match backend.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        client.write_all(&buf[..n])?;
    }
}

/// A blocking socket seen as async I/O whose every poll completes at once, for the framer
/// running under `block_on` on its own thread (never on a runtime worker).
struct Blocking<'a, S>(&'a S);

impl<S> AsyncRead for Blocking<'_, S>
where
    for<'b> &'b S: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut sock = self.0;
        loop {
            match sock.read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl<S> AsyncWrite for Blocking<'_, S>
where
    for<'b> &'b S: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut sock = self.0;
        loop {
            match sock.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return Poll::Ready(r),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Sockets have no user-space buffer.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The relay shuts both sockets down itself when a direction ends.
        Poll::Ready(Ok(()))
    }
}
