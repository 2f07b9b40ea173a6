//! A standalone Endpoint in front of a running PostgreSQL, for benchmarks and manual checks:
//! `endpoint <listen addr> <socket file> <user> <password> [backend user]`; stops on Ctrl-C.

use std::path::PathBuf;
use std::sync::Arc;

use tidemark_pgproxy::{BackendError, Limits, Login, LoginError, Route, SqlError, md5_verifier};

struct Fixed {
    socket: PathBuf,
    user: String,
    verifier: String,
    backend_user: String,
}

impl Route for Fixed {
    fn login(&self, user: &str, database: &str) -> Result<Login, LoginError> {
        if user != self.user {
            return Err(LoginError::UnknownUser);
        }
        Ok(Login {
            md5_verifier: self.verifier.clone(),
            backend_user: self.backend_user.clone(),
            backend_database: database.into(),
        })
    }
    fn backend(&self) -> Result<PathBuf, BackendError> {
        Ok(self.socket.clone())
    }
    fn rewrite(&self, _sql: &str) -> Result<Option<String>, SqlError> {
        Ok(None)
    }
}

/// `ENDPOINT_RUNTIME=current` runs on tokio's single-thread runtime (to compare its latency).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rt = if std::env::var("ENDPOINT_RUNTIME").as_deref() == Ok("current") {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    };
    rt.block_on(run())
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, socket, user, password, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: endpoint <listen addr> <socket file> <user> <password> [backend user]".into(),
        );
    };
    let route = Fixed {
        socket: socket.into(),
        user: user.clone(),
        verifier: md5_verifier(user, password),
        backend_user: rest.first().unwrap_or(user).clone(),
    };
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("endpoint listening on {}", listener.local_addr()?);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    tidemark_pgproxy::serve(listener, Arc::new(route), Limits::default(), shutdown).await;
    Ok(())
}
