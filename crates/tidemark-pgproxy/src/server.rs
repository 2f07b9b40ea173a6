//! The accept loop: one task per connection, a connection cap, and shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::cancel::Registry;
use crate::session::{self, Shared};
use crate::{Limits, Route, wire};

/// Serves the Endpoint on `listener` until `shutdown` completes; then every session is closed.
pub async fn serve(
    listener: TcpListener,
    route: Arc<dyn Route>,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let shared = Arc::new(Shared {
        route,
        limits,
        cancels: Arc::new(Registry::default()),
    });
    let mut tasks = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => match Arc::clone(&permits).try_acquire_owned() {
                    Ok(permit) => {
                        let shared = Arc::clone(&shared);
                        tasks.spawn(async move {
                            session::run(stream, shared).await;
                            drop(permit);
                        });
                    }
                    Err(_) => {
                        tasks.spawn(too_many(stream));
                    }
                },
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

/// PostgreSQL's answer when `max_connections` is reached.
async fn too_many(mut stream: TcpStream) {
    let msg = wire::fatal("53300", "sorry, too many clients already");
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(&msg).await?;
        stream.shutdown().await
    })
    .await;
}
