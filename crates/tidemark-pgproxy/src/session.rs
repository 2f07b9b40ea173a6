//! One client connection's startup: SSL/GSS refusals, cancel requests, the StartupMessage, md5
//! authentication, then the backend's own startup, relayed with Redshift's parameters.

use std::io::Read;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UnixStream, tcp, unix};
use tokio::time::{Instant, timeout_at};

use crate::cancel::{Registration, Registry};
use crate::startup::{self, Packet, Startup};
use crate::{
    Limits, LoginError, Route, SERVER_PROTOCOL_VERSION, SERVER_VERSION, auth, relay, threads, wire,
};

/// What every session of a listener shares.
pub(crate) struct Shared {
    pub route: Arc<dyn Route>,
    pub limits: Limits,
    pub cancels: Arc<Registry>,
    /// Offered to clients that send an SSLRequest; without it they are answered 'N'.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Bytes of statements larger than a read buffer that all sessions may hold at once.
    pub statement_budget: tokio::sync::Semaphore,
    /// Plain sessions that may be relayed on threads of their own (`Limits::max_threaded_sessions`).
    pub threaded_sessions: Arc<tokio::sync::Semaphore>,
}

/// Largest message the backend may send during its startup (ParameterStatus, notices, errors).
const MAX_BACKEND_STARTUP_MESSAGE: usize = 1 << 20;
/// Largest `PasswordMessage` accepted (an md5 answer is 35 bytes; PostgreSQL allows 1000).
const MAX_PASSWORD_MESSAGE: usize = 1000;

/// A session past startup: the backend connection and the cancel key registration.
pub(crate) struct Established {
    backend_rd: BufReader<unix::OwnedReadHalf>,
    backend_wr: unix::OwnedWriteHalf,
    _registration: Option<Registration>,
}

#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("a blocking route call failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("the backend broke the startup protocol: {0}")]
    Backend(&'static str),
}

/// Runs one connection to its end. A connection past the cap (`admitted` false) only gets
/// PostgreSQL's "too many clients" after its startup packet (or has its cancel request served).
pub(crate) async fn run(stream: TcpStream, shared: Arc<Shared>, admitted: bool) {
    // Latency: each protocol message batch is written whole, so Nagle only delays them.
    let _ = stream.set_nodelay(true);
    // One deadline from accept to ReadyForQuery; PostgreSQL closes silently on its
    // authentication_timeout, and so do we.
    let deadline = Instant::now() + shared.limits.startup_timeout;
    let (mut rd, mut wr) = stream.into_split();
    let tls = shared.tls.clone();
    let opening = timeout_at(
        deadline,
        read_startup(&mut rd, &mut wr, &shared, tls.is_some()),
    )
    .await;
    match opening {
        Ok(Ok(Opening::Startup(s))) => {
            if let Some(est) = session(&mut rd, &mut wr, &shared, admitted, s, deadline).await {
                relay_plain(rd, wr, est, shared).await;
            }
        }
        Ok(Ok(Opening::Tls)) => {
            let (Some(acceptor), Ok(tcp)) = (tls, rd.reunite(wr)) else {
                return;
            };
            let tls = match timeout_at(deadline, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => return tracing::debug!("TLS handshake failed: {e}"),
                Err(_) => return tracing::debug!("session startup timed out"),
            };
            let (mut rd, mut wr) = tokio::io::split(tls);
            match timeout_at(deadline, read_startup(&mut rd, &mut wr, &shared, false)).await {
                Ok(Ok(Opening::Startup(s))) => {
                    if let Some(est) =
                        session(&mut rd, &mut wr, &shared, admitted, s, deadline).await
                    {
                        relay_tls(rd, wr, est, shared).await;
                    }
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::debug!("session startup ended: {e}"),
                Err(_) => tracing::debug!("session startup timed out"),
            }
        }
        Ok(Ok(Opening::Done)) => {}
        Ok(Err(e)) => tracing::debug!("session startup ended: {e}"),
        Err(_) => tracing::debug!("session startup timed out"),
    }
}

/// Authenticates and connects the backend, over a plain or TLS client stream; None if the
/// session ended during startup.
async fn session<R, W>(
    rd: &mut R,
    wr: &mut W,
    shared: &Shared,
    admitted: bool,
    startup: Startup,
    deadline: Instant,
) -> Option<Established>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    match timeout_at(deadline, establish(rd, wr, shared, admitted, startup)).await {
        Ok(Ok(est)) => est,
        Ok(Err(e)) => {
            tracing::debug!("session startup ended: {e}");
            None
        }
        Err(_) => {
            tracing::debug!("session startup timed out");
            None
        }
    }
}

/// Relays a plain-TCP session on its own two threads (see `threads`), or on this task if
/// they cannot be started.
async fn relay_plain(
    rd: tcp::OwnedReadHalf,
    wr: tcp::OwnedWriteHalf,
    est: Established,
    shared: Arc<Shared>,
) {
    let Ok(_permit) = Arc::clone(&shared.threaded_sessions).try_acquire_owned() else {
        return relay_async(rd, wr, est, &shared).await;
    };
    let Established {
        backend_rd,
        backend_wr,
        _registration,
    } = est;
    // Bytes the backend sent past its ReadyForQuery (none in practice: it waits for a query).
    let pending = backend_rd.buffer().to_vec();
    let blocking = (|| {
        let client = rd.reunite(wr).map_err(std::io::Error::other)?.into_std()?;
        client.set_nonblocking(false)?;
        let backend = backend_rd
            .into_inner()
            .reunite(backend_wr)
            .map_err(std::io::Error::other)?
            .into_std()?;
        backend.set_nonblocking(false)?;
        Ok::<_, std::io::Error>((client, backend))
    })();
    let (client, backend) = match blocking {
        Ok(pair) => pair,
        Err(e) => return tracing::debug!("session ended: {e}"),
    };
    let client = threads::Client::Plain(client);
    let from_backend = pending;
    let Some((client, backend)) = threads::run(
        client,
        backend,
        Vec::new(),
        from_backend,
        Arc::clone(&shared),
    )
    .await
    else {
        return;
    };
    let threads::Client::Plain(client) = client else {
        return;
    };
    // No thread to spare: relay on this task after all.
    let back = (|| {
        client.set_nonblocking(true)?;
        backend.set_nonblocking(true)?;
        Ok::<_, std::io::Error>((TcpStream::from_std(client)?, UnixStream::from_std(backend)?))
    })();
    match back {
        Ok((client, backend)) => {
            let (rd, wr) = client.into_split();
            let (backend_rd, backend_wr) = backend.into_split();
            let est = Established {
                backend_rd: BufReader::new(backend_rd),
                backend_wr,
                _registration,
            };
            relay_async(rd, wr, est, &shared).await;
        }
        Err(e) => tracing::debug!("session ended: {e}"),
    }
}

type TlsStream = tokio_rustls::server::TlsStream<TcpStream>;

/// Relays a TLS session on its own two threads (see `threads`), or on this task past the cap.
async fn relay_tls(
    rd: tokio::io::ReadHalf<TlsStream>,
    wr: tokio::io::WriteHalf<TlsStream>,
    est: Established,
    shared: Arc<Shared>,
) {
    let Ok(_permit) = Arc::clone(&shared.threaded_sessions).try_acquire_owned() else {
        return relay_async(rd, wr, est, &shared).await;
    };
    let Established {
        backend_rd,
        backend_wr,
        _registration,
    } = est;
    let from_backend = backend_rd.buffer().to_vec();
    // The halves come from one `split` of this stream, so they pair up.
    let (tcp, mut conn) = rd.unsplit(wr).into_inner();
    // Plaintext rustls decrypted but nobody read yet (none in practice: the client waited
    // for ReadyForQuery); WouldBlock means there is none, Ok a close_notify.
    let mut from_client = Vec::new();
    if let Err(e) = conn.reader().read_to_end(&mut from_client)
        && e.kind() != std::io::ErrorKind::WouldBlock
    {
        return tracing::debug!("session ended: {e}");
    }
    let blocking = (|| {
        let client = tcp.into_std()?;
        client.set_nonblocking(false)?;
        let backend = backend_rd
            .into_inner()
            .reunite(backend_wr)
            .map_err(std::io::Error::other)?
            .into_std()?;
        backend.set_nonblocking(false)?;
        Ok::<_, std::io::Error>((client, backend))
    })();
    let (client, backend) = match blocking {
        Ok(pair) => pair,
        Err(e) => return tracing::debug!("session ended: {e}"),
    };
    let client = threads::Client::tls(client, conn);
    if threads::run(
        client,
        backend,
        from_client,
        from_backend,
        Arc::clone(&shared),
    )
    .await
    .is_some()
    {
        // rustls' state cannot be handed back to tokio-rustls: the session ends, as it would
        // without a thread to run on.
        tracing::warn!("no relay thread for a TLS session; closed");
    }
}

/// Relays on this task until either side closes.
async fn relay_async<R, W>(rd: R, wr: W, est: Established, shared: &Shared)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let Established {
        backend_rd,
        backend_wr,
        _registration,
    } = est;
    if let Err(e) = relay::run(
        rd,
        wr,
        backend_rd,
        backend_wr,
        &shared.route,
        &shared.limits,
        &shared.statement_budget,
    )
    .await
    {
        tracing::debug!("session ended: {e}");
    }
}

/// Sends a FATAL error and ends the session.
async fn refuse<W: AsyncWrite + Unpin, T>(
    wr: &mut W,
    code: &str,
    msg: &str,
) -> Result<Option<T>, SessionError> {
    wr.write_all(&wire::fatal(code, msg)).await?;
    wr.shutdown().await?;
    Ok(None)
}

/// How a connection opens.
enum Opening {
    Startup(Startup),
    /// The client asked for TLS and we answered 'S': the handshake comes next.
    Tls,
    /// Answered and done (a refusal or a cancel request).
    Done,
}

/// Reads packets until a StartupMessage, answering SSL/GSS requests and serving cancels.
async fn read_startup<R, W>(
    rd: &mut R,
    wr: &mut W,
    shared: &Shared,
    offer_tls: bool,
) -> Result<Opening, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let limits = &shared.limits;
    // Unbuffered reads: nothing read past the startup phase may be lost to a buffer.
    loop {
        let len = rd.read_u32().await?;
        let len = match startup::check_len(len, limits.max_startup_packet) {
            Ok(len) => len,
            Err(e) => {
                return refuse::<_, ()>(wr, e.sqlstate(), &e.to_string())
                    .await
                    .map(|_| Opening::Done);
            }
        };
        let mut body = vec![0; len - 4];
        rd.read_exact(&mut body).await?;
        match startup::parse_packet(&body, limits.max_startup_parameters) {
            Err(e) => {
                return refuse::<_, ()>(wr, e.sqlstate(), &e.to_string())
                    .await
                    .map(|_| Opening::Done);
            }
            Ok(Packet::SslRequest) if offer_tls => {
                wr.write_all(b"S").await?;
                wr.flush().await?;
                return Ok(Opening::Tls);
            }
            // No (more) encryption to offer: 'N' tells the client to go on as it is.
            Ok(Packet::SslRequest | Packet::GssEncRequest) => {
                wr.write_all(b"N").await?;
                wr.flush().await?;
            }
            Ok(Packet::Cancel { pid, key }) => {
                shared.cancels.cancel(pid, key).await;
                return Ok(Opening::Done);
            }
            Ok(Packet::Startup(s)) => return Ok(Opening::Startup(s)),
        }
    }
}

/// Authenticates the client and opens its backend session.
async fn establish<R, W>(
    rd: &mut R,
    wr: &mut W,
    shared: &Shared,
    admitted: bool,
    startup: Startup,
) -> Result<Option<Established>, SessionError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if !admitted {
        return refuse(wr, "53300", "sorry, too many clients already").await;
    }
    let Some(user) = startup
        .get("user")
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
    else {
        return refuse(
            wr,
            "28000",
            "no PostgreSQL user name specified in startup packet",
        )
        .await;
    };
    let database = startup
        .get("database")
        .filter(|d| !d.is_empty())
        .unwrap_or(&user)
        .to_owned();

    let mut out = Vec::with_capacity(512);
    let options = startup::protocol_options(&startup);
    if startup.minor > 0 || !options.is_empty() {
        wire::negotiate_protocol_version(&mut out, &options);
    }
    let salt: [u8; 4] = rand::random();
    wire::auth_md5(&mut out, salt);
    wr.write_all(&out).await?;
    wr.flush().await?;

    let Some(password) = read_password(rd).await? else {
        return refuse(wr, "08P01", "expected password response").await;
    };
    let route = Arc::clone(&shared.route);
    let (u, d) = (user.clone(), database.clone());
    let login = tokio::task::spawn_blocking(move || route.login(&u, &d)).await?;
    let (verifier, login) = match login {
        Ok(l) => (Some(l.md5_verifier.clone()), Some(l)),
        Err(LoginError::UnknownUser) => (None, None),
        Err(LoginError::Unavailable(m)) => return refuse(wr, "57P03", &m).await,
    };
    let login = match login {
        Some(l) if auth::verify(verifier.as_deref(), salt, &password) => l,
        _ => {
            return refuse(
                wr,
                "28P01",
                &format!("password authentication failed for user \"{user}\""),
            )
            .await;
        }
    };

    let route = Arc::clone(&shared.route);
    let socket = match tokio::task::spawn_blocking(move || route.backend()).await? {
        Ok(s) => s,
        Err(e) => return refuse(wr, "57P03", &e.0).await,
    };
    let backend = match UnixStream::connect(&socket).await {
        Ok(b) => b,
        Err(e) => {
            return refuse(
                wr,
                "08006",
                &format!("could not connect to the cluster's database: {e}"),
            )
            .await;
        }
    };
    let (backend_rd, mut backend_wr) = backend.into_split();
    let mut backend_rd = BufReader::with_capacity(8 * 1024, backend_rd);
    out.clear();
    wire::startup_message(
        &mut out,
        &startup::backend_params(&startup, &login.backend_user, &login.backend_database),
    );
    backend_wr.write_all(&out).await?;
    out.clear();

    let registration = relay_backend_startup(&mut backend_rd, &mut out, shared, &socket).await?;
    wr.write_all(&out).await?;
    wr.flush().await?;
    match registration {
        BackendStartup::Ready(reg) => Ok(Some(Established {
            backend_rd,
            backend_wr,
            _registration: reg,
        })),
        BackendStartup::Failed => {
            wr.shutdown().await?;
            Ok(None)
        }
    }
}

/// Reads the `PasswordMessage`; None if the client sent something else.
async fn read_password<R: AsyncRead + Unpin>(rd: &mut R) -> Result<Option<Vec<u8>>, SessionError> {
    let ty = rd.read_u8().await?;
    let len = rd.read_u32().await? as usize;
    if ty != b'p' || !(5..=MAX_PASSWORD_MESSAGE).contains(&len) {
        return Ok(None);
    }
    let mut body = vec![0; len - 4];
    rd.read_exact(&mut body).await?;
    if body.pop() != Some(0) {
        return Ok(None);
    }
    Ok(Some(body))
}

enum BackendStartup {
    Ready(Option<Registration>),
    /// The backend refused (e.g. 3D000, unknown database); its error is in the output.
    Failed,
}

/// Relays the backend's startup messages into `out`, reporting Redshift's `server_version`,
/// adding `server_protocol_version`, and swapping the backend's cancel key for one of ours.
async fn relay_backend_startup(
    rd: &mut BufReader<unix::OwnedReadHalf>,
    out: &mut Vec<u8>,
    shared: &Shared,
    socket: &std::path::Path,
) -> Result<BackendStartup, SessionError> {
    let mut registration = None;
    let mut body = Vec::new();
    loop {
        let ty = rd.read_u8().await?;
        let len = rd.read_u32().await? as usize;
        if !(4..=MAX_BACKEND_STARTUP_MESSAGE).contains(&len) {
            return Err(SessionError::Backend("message length out of range"));
        }
        body.resize(len - 4, 0);
        rd.read_exact(&mut body).await?;
        match ty {
            b'R' if body == [0, 0, 0, 0] => out.extend_from_slice(&[b'R', 0, 0, 0, 8, 0, 0, 0, 0]),
            b'R' => {
                // Trust authentication is configured for the socket; anything else is a setup error.
                wire::error_response(
                    out,
                    "FATAL",
                    "28000",
                    "the cluster's database asked for a password",
                );
                return Ok(BackendStartup::Failed);
            }
            b'S' => {
                let name = body.split(|&b| b == 0).next().unwrap_or_default();
                if name == b"server_version" {
                    wire::parameter_status(out, b"server_version", SERVER_VERSION.as_bytes());
                } else {
                    push_message(out, ty, &body);
                }
            }
            b'K' if body.len() == 8 => {
                let pid = i32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                let key = i32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                let (reg, our_pid, our_key) =
                    shared.cancels.register(pid, key, socket.to_path_buf());
                registration = Some(reg);
                wire::backend_key_data(out, our_pid, our_key);
            }
            b'E' => {
                push_message(out, ty, &body);
                return Ok(BackendStartup::Failed);
            }
            b'Z' => {
                wire::parameter_status(
                    out,
                    b"server_protocol_version",
                    SERVER_PROTOCOL_VERSION.as_bytes(),
                );
                push_message(out, ty, &body);
                return Ok(BackendStartup::Ready(registration));
            }
            b'N' | b'v' => push_message(out, ty, &body),
            _ => return Err(SessionError::Backend("unexpected message type")),
        }
    }
}

fn push_message(out: &mut Vec<u8>, ty: u8, body: &[u8]) {
    out.push(ty);
    // The length was read from a u32 and bounded above, so it fits.
    out.extend_from_slice(
        &u32::try_from(body.len() + 4)
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(body);
}
