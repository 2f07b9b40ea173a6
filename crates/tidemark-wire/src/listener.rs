//! The accept loop: one task per connection, served by hyper (HTTP/1.1, or h2c) with the
//! deadlines of `timeouts.rs`, optionally behind TLS, at most `max_connections` at a time,
//! and a graceful shutdown that lets in-flight requests finish.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use http_body::Body as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use crate::server::{Services, app};
use crate::timeouts::{Phase, RateLimitedBody, TimedIo};

/// The connection layer's limits; `Default` gives the documented defaults.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    /// From accepting a connection, or from the first byte of a later request, to the end
    /// of the request header (the TLS handshake included).
    pub header_timeout: Duration,
    /// How long a kept-alive connection may wait for its next request, and how long a
    /// response may sit unread by the client.
    pub idle_timeout: Duration,
    /// A request body gets this long, plus one second per `body_min_rate` bytes received.
    pub body_timeout: Duration,
    /// Bytes per second a request body must keep up on average (0: no allowance).
    pub body_min_rate: u64,
    /// Connections served at once; further ones are answered 503 and closed.
    pub max_connections: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            body_min_rate: 16 * 1024,
            max_connections: 4096,
        }
    }
}

/// Refused connections being answered at once; beyond this they are closed unanswered,
/// so a flood cannot turn refusals into the descriptor exhaustion the cap prevents.
const REFUSALS_IN_FLIGHT: usize = 64;

/// How long a refused connection may take to receive its 503.
const REFUSAL_GRACE: Duration = Duration::from_secs(1);

/// The answer to a connection over the cap: no body, and the connection closes.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
content-length: 0\r\nconnection: close\r\nretry-after: 1\r\n\r\n";

/// The longest pause between accept attempts while accepting fails (EMFILE and the like).
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Serves until `shutdown` resolves, then stops accepting, asks every connection to close
/// after its in-flight request, and returns once all have.
pub async fn serve(
    listener: TcpListener,
    services: Arc<Services>,
    limits: ConnectionLimits,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let max = limits.max_connections.max(1);
    let shared = Arc::new(Shared {
        router: app(services),
        limits,
        tls: tls.map(TlsAcceptor::from),
    });
    let slots = Arc::new(Semaphore::new(max as usize));
    let refusals = Arc::new(Semaphore::new(REFUSALS_IN_FLIGHT));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut backoff = Duration::ZERO;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                backoff = Duration::ZERO;
                accepted
            }
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                if backoff.is_zero() {
                    tracing::error!("accept failed, backing off: {e}");
                }
                backoff = (backoff * 2).clamp(Duration::from_millis(10), MAX_ACCEPT_BACKOFF);
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(backoff) => continue,
                }
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refuse(stream, shared.tls.is_some(), &refusals);
            continue;
        };
        let shared = shared.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            shared.connection(stream, peer, stop).await;
            drop(slot);
        });
    }
    drop(listener);
    // A send error means no connection is listening any more: nothing to tell.
    let _ = stop_tx.send(true);
    // Each connection holds a slot until it ends, so all slots back means all have ended.
    // The semaphore is never closed, so acquiring can only wait, not fail.
    let _ = slots.acquire_many(max).await;
    Ok(())
}

/// Failures of one pending connection, not of the listener: accept the next at once.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// Answers a connection over the cap with a 503 and closes it. On a TLS port a plain 503
/// would be noise to the client, so the connection is closed at once.
fn refuse(stream: TcpStream, tls: bool, refusals: &Arc<Semaphore>) {
    static REFUSED: AtomicU64 = AtomicU64::new(0);
    let refused = REFUSED.fetch_add(1, Ordering::Relaxed);
    // The first refusal and every 1,000th: a flood must not flood the log too.
    if refused.is_multiple_of(1000) {
        tracing::warn!(
            "connection limit reached: {} connections refused so far",
            refused + 1
        );
    }
    if tls {
        return;
    }
    let Ok(permit) = refusals.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let _ = tokio::time::timeout(REFUSAL_GRACE, answer_busy(stream)).await;
        drop(permit);
    });
}

async fn answer_busy(mut stream: TcpStream) -> io::Result<()> {
    use tokio::io::AsyncWriteExt;
    stream.write_all(BUSY).await?;
    stream.shutdown().await?;
    // Read what the client sent until it closes: closing with unread data would send a
    // reset, and a reset can destroy the 503 before the client reads it.
    let mut sink = [0u8; 4096];
    while stream.read(&mut sink).await? > 0 {}
    Ok(())
}

/// What every connection task needs.
struct Shared {
    router: axum::Router,
    limits: ConnectionLimits,
    tls: Option<TlsAcceptor>,
}

impl Shared {
    async fn connection(&self, stream: TcpStream, peer: SocketAddr, stop: watch::Receiver<bool>) {
        match &self.tls {
            None => self.http(stream, peer, stop).await,
            Some(acceptor) => {
                let handshake = acceptor.accept(stream);
                match tokio::time::timeout(self.limits.header_timeout, handshake).await {
                    Ok(Ok(tls)) => self.http(tls, peer, stop).await,
                    Ok(Err(e)) => tracing::debug!("TLS handshake with {peer} failed: {e}"),
                    Err(_) => tracing::debug!("TLS handshake with {peer} timed out"),
                }
            }
        }
    }

    async fn http<T>(&self, io: T, peer: SocketAddr, mut stop: watch::Receiver<bool>)
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let limits = &self.limits;
        let phase = Phase::new();
        let io = TimedIo::new(
            io,
            phase.clone(),
            limits.header_timeout,
            limits.idle_timeout,
        );
        let router = self.router.clone();
        let (body_timeout, min_rate) = (limits.body_timeout, limits.body_min_rate);
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            let mut router = router.clone();
            // Counted in when hyper hands the request over, not when the future first runs
            // (HTTP/2 spawns it), so the connection is never idle with a request accepted.
            let serving = phase.serving();
            async move {
                let _serving = serving;
                let mut req = req.map(|body| {
                    if body.is_end_stream() {
                        Body::new(body)
                    } else {
                        Body::new(RateLimitedBody::new(body, body_timeout, min_rate))
                    }
                });
                req.extensions_mut().insert(ConnectInfo(peer));
                tower_service::Service::call(&mut router, req).await
            }
        });
        // HTTP/1.1, and HTTP/2 with prior knowledge as axum::serve offered before (no AWS
        // client uses it, but nothing that worked should stop working). hyper's own header
        // timeout stays off (no timer): TimedIo keeps the deadlines for both.
        let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        let conn = builder.serve_connection(TokioIo::new(io), service);
        let mut conn = std::pin::pin!(conn);
        let result = tokio::select! {
            result = conn.as_mut() => result,
            // Only one value is ever sent: stop. Finish the request in flight, then close;
            // an idle connection closes at once.
            _ = stop.changed() => {
                conn.as_mut().graceful_shutdown();
                conn.as_mut().await
            }
        };
        if let Err(e) = result {
            tracing::debug!("connection from {peer} ended: {e}");
        }
    }
}
