//! The accept loop: one task per connection, a connection cap, and shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::cancel::Registry;
use crate::session::{self, Shared};
use crate::{Limits, Route};

/// Serves the Endpoint on `listener` until `shutdown` completes; then every session is closed.
/// Clients asking for TLS are answered 'N' and go on in plain text.
pub async fn serve(
    listener: TcpListener,
    route: Arc<dyn Route>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) {
    serve_inner(listener, route, limits, None, shutdown).await;
}

/// As [`serve`], but a client's SSLRequest is answered 'S' and the session runs over TLS with
/// `tls` (clients that do not ask still connect in plain text, as with PostgreSQL's `ssl=on`).
pub async fn serve_tls(
    listener: TcpListener,
    route: Arc<dyn Route>,
    limits: Limits,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send,
) {
    serve_inner(
        listener,
        route,
        limits,
        Some(tokio_rustls::TlsAcceptor::from(tls)),
        shutdown,
    )
    .await;
}

async fn serve_inner(
    listener: TcpListener,
    route: Arc<dyn Route>,
    limits: Limits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    // Connections past the cap still get PostgreSQL's answer (after its SSL negotiation, as
    // PostgreSQL gives it), but only this many at once; beyond that they are closed at once.
    let refusals = Arc::new(Semaphore::new(limits.max_connections / 4 + 16));
    let shared = Arc::new(Shared {
        route,
        cancels: Arc::new(Registry::default()),
        tls,
        statement_budget: Semaphore::new(
            limits
                .max_buffered_statement_bytes
                .min(Semaphore::MAX_PERMITS),
        ),
        threaded_sessions: Arc::new(Semaphore::new(
            limits.max_threaded_sessions.min(Semaphore::MAX_PERMITS),
        )),
        limits,
    });
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let permit = Arc::clone(&permits).try_acquire_owned();
                    let admitted = permit.is_ok();
                    let permit = permit.or_else(|_| Arc::clone(&refusals).try_acquire_owned());
                    if let Ok(permit) = permit {
                        let shared = Arc::clone(&shared);
                        tasks.spawn(async move {
                            session::run(stream, shared, admitted).await;
                            drop(permit);
                        });
                    }
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
}
