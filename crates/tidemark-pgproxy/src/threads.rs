//! The relay on two dedicated threads with blocking sockets, one per direction: each round
//! trip then costs one `recv` and one `send` per direction and a wake-up straight from the
//! kernel, instead of an `epoll_wait` and the runtime's task machinery on top (measured in
//! docs/ARCHITECTURE.md, "The Redshift Endpoint"). A TLS session's rustls state is shared by
//! both threads under a lock held only to decrypt or encrypt, never across a socket wait.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use rustls::ServerConnection;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::relay;
use crate::session::Shared;

/// The client's side of a session.
pub(crate) enum Client {
    Plain(TcpStream),
    /// Boxed: rustls' state is a kilobyte, the plain variant a descriptor.
    Tls(Box<Tls>),
}

/// A TLS client connection after its handshake.
pub(crate) struct Tls {
    sock: TcpStream,
    /// rustls' state for both directions; held only while it decrypts or encrypts.
    conn: Mutex<ServerConnection>,
    /// Taken before `conn` is let go, and held while the records just made are sent, so the
    /// two threads put records on the wire in the order their sequence numbers were given.
    send: Mutex<()>,
}

impl Client {
    pub(crate) fn tls(sock: TcpStream, conn: ServerConnection) -> Client {
        Client::Tls(Box::new(Tls {
            sock,
            conn: Mutex::new(conn),
            send: Mutex::new(()),
        }))
    }

    fn sock(&self) -> &TcpStream {
        match self {
            Client::Plain(s) => s,
            Client::Tls(t) => &t.sock,
        }
    }

    fn write_all(&self, data: &[u8]) -> io::Result<()> {
        match self {
            Client::Plain(s) => {
                let mut s: &TcpStream = s;
                s.write_all(data)
            }
            Client::Tls(t) => t.write_all(data),
        }
    }
}

/// A lock whose holder panicked still guards consistent data: every critical section here
/// either completes or its error ends the session.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Tls {
    /// Encrypts `data` and sends it.
    fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        let mut conn = lock(&self.conn);
        let mut out = Vec::with_capacity(data.len() + 64);
        while !data.is_empty() {
            let n = conn.writer().write(data)?;
            data = &data[n..];
            let mut drained = 0;
            while conn.wants_write() {
                drained += conn.write_tls(&mut out)?;
            }
            if n == 0 && drained == 0 {
                return Err(io::Error::other("TLS connection accepts no more data"));
            }
        }
        self.send_locked(conn, &out)
    }

    /// Sends `out` (records made under `conn`), letting `conn` go once the send lock is held.
    fn send_locked(&self, conn: MutexGuard<'_, ServerConnection>, out: &[u8]) -> io::Result<()> {
        let _send = lock(&self.send);
        drop(conn);
        (&self.sock).write_all(out)
    }

    /// Sends whatever rustls has queued (alerts, handshake messages after a key update).
    fn flush(&self, mut conn: MutexGuard<'_, ServerConnection>) -> io::Result<()> {
        let mut out = Vec::new();
        while conn.wants_write() {
            conn.write_tls(&mut out)?;
        }
        if out.is_empty() {
            return Ok(());
        }
        self.send_locked(conn, &out)
    }
}

/// Reads a client's plaintext, for the client → backend thread.
struct ClientReader<'a> {
    client: &'a Client,
    /// Ciphertext as received.
    raw: Vec<u8>,
    /// Decrypted bytes not yet handed out, from `pos`. Only filled when empty, from one
    /// `recv`, so it stays within one read buffer plus a record.
    plain: Vec<u8>,
    pos: usize,
    /// The client sent close_notify.
    closed: bool,
}

impl<'a> ClientReader<'a> {
    fn new(client: &'a Client, pending: Vec<u8>) -> Self {
        let raw = match client {
            Client::Plain(_) => Vec::new(),
            Client::Tls(_) => vec![0; relay::BUF],
        };
        ClientReader {
            client,
            raw,
            plain: pending,
            pos: 0,
            closed: false,
        }
    }

    /// Decrypts what one `recv` brings; false at the end of the stream.
    fn fill(&mut self, tls: &Tls) -> io::Result<bool> {
        self.plain.clear();
        self.pos = 0;
        while self.plain.is_empty() {
            if self.closed {
                return Ok(false);
            }
            let n = retry(|| (&tls.sock).read(&mut self.raw))?;
            if n == 0 {
                return Ok(false);
            }
            let mut conn = lock(&tls.conn);
            let mut data = &self.raw[..n];
            while !data.is_empty() {
                if conn.read_tls(&mut data)? == 0 {
                    // After close_notify rustls takes nothing more.
                    break;
                }
                if let Err(e) = conn.process_new_packets() {
                    // rustls queued an alert telling the client why; send it, then end.
                    let _ = tls.flush(conn);
                    return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                }
                // Drained after each record batch, so rustls' own plaintext buffer (16 KiB)
                // never fills.
                match conn.reader().read_to_end(&mut self.plain) {
                    Ok(_) => self.closed = true,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            tls.flush(conn)?;
        }
        Ok(true)
    }
}

impl Read for ClientReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.plain.len() {
            match self.client {
                Client::Plain(s) if self.plain.is_empty() => {
                    let mut s: &TcpStream = s;
                    return s.read(out);
                }
                Client::Plain(_) => {
                    // The pending bytes are all handed out: the socket from here on.
                    self.plain = Vec::new();
                    self.pos = 0;
                    return self.read(out);
                }
                Client::Tls(tls) => {
                    if !self.fill(tls)? {
                        return Ok(0);
                    }
                }
            }
        }
        let n = out.len().min(self.plain.len() - self.pos);
        out[..n].copy_from_slice(&self.plain[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Retries a socket call interrupted by a signal.
fn retry(mut f: impl FnMut() -> io::Result<usize>) -> io::Result<usize> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            r => return r,
        }
    }
}

/// The two sockets of a session, shared by its two threads and the task that waits for them.
struct Sockets {
    client: Client,
    backend: UnixStream,
}

impl Sockets {
    /// Ends both directions: a thread blocked on either socket returns at once. Errors only
    /// mean the socket is already shut down or reset, which is the aim anyway.
    fn shutdown(&self) {
        let _ = self.client.sock().shutdown(Shutdown::Both);
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
/// closes. `from_client` and `from_backend` are bytes already read from each (a TLS client's
/// decrypted), relayed first. The sockets come back if no thread could be started, to be
/// relayed another way.
pub(crate) async fn run(
    client: Client,
    backend: UnixStream,
    from_client: Vec<u8>,
    from_backend: Vec<u8>,
    shared: Arc<Shared>,
) -> Option<(Client, UnixStream)> {
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
                    Blocking(ClientReader::new(&sockets.client, from_client)),
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
            if let Err(e) = copy(&sockets.backend, &sockets.client, &from_backend) {
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
fn copy(mut backend: &UnixStream, client: &Client, pending: &[u8]) -> io::Result<()> {
    if !pending.is_empty() {
        client.write_all(pending)?;
    }
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
struct Blocking<S>(S);

impl<S: Read + Unpin> AsyncRead for Blocking<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            match this.0.read(buf.initialize_unfilled()) {
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

impl<S: Write + Unpin> AsyncWrite for Blocking<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            match this.0.write(buf) {
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
