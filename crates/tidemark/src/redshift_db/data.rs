//! The Data API's way into the clusters' databases (`tidemark_redshift_data::SqlBackend`).
//!
//! A statement logs in over the cluster's unix socket as its `DbUser` itself: PostgreSQL
//! trusts local logins, so the role must exist (as a Redshift user must), its privileges
//! apply, and `current_user` is what the client asked for. We chose that over logging in as
//! the superuser and `SET SESSION AUTHORIZATION`, which a statement could undo with `RESET`.
//!
//! Each session is a `tokio-postgres` connection driven by its own current-thread runtime on
//! the Data API's worker thread (what the sync `postgres` crate does inside): each statement
//! holds its connection for its whole run and nothing else waits on that thread. We use the
//! async crate directly for `simple_query_raw`, which streams rows as they arrive; the sync
//! crate's `simple_query` collects a whole result first.
//!
//! Each statement is first prepared (PostgreSQL describes its result columns and their
//! types) and then run with the simple protocol, whose rows come back as PostgreSQL's text,
//! which is what the Data API returns for every type it sends as a string (numerics, dates,
//! timestamps). Rows are handed to the caller's sink one by one: the driver reads the next
//! message only when the sink has taken the last (its channel holds one batch of messages),
//! so PostgreSQL waits on the socket rather than the server buffering the result. A row too
//! large to return is dropped from the socket before the driver would buffer it whole
//! (`row_guard.rs`). The SQL goes through `tidemark_redshift_sql::rewrite` exactly as the
//! Endpoint's proxy sends it.

mod row_guard;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tidemark_redshift::{RedshiftService, Scope};
use tidemark_redshift_data::{
    CancelHandle, Column, ConnectError, MAX_ROW_BYTES, Origin, Outcome, ROW_TOO_LARGE, RowSink,
    SqlBackend, SqlFailure, SqlSession, Summary, Target,
};
use tokio::net::UnixStream;
use tokio::runtime::Runtime;
use tokio_postgres::config::SslMode;
use tokio_postgres::types::Type;
use tokio_postgres::{CancelToken, Client, Config, NoTls, SimpleQueryMessage};

use row_guard::{Guard, Guarded};

use super::cluster::ClusterDb;
use super::{PgClusters, key};

/// A login that takes longer than this is reported as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A cancel request (a short connection to the postmaster) that takes longer is abandoned.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(10);

pub struct PgData {
    clusters: Arc<PgClusters>,
    redshift: Arc<RedshiftService>,
}

impl PgData {
    pub fn new(clusters: Arc<PgClusters>, redshift: Arc<RedshiftService>) -> Arc<Self> {
        Arc::new(Self { clusters, redshift })
    }
}

impl SqlBackend for PgData {
    fn check(&self, account: &str, region: &str, cluster: &str) -> Result<(), ConnectError> {
        let scope = Scope {
            account: account.to_owned(),
            region: region.to_owned(),
        };
        let status = self
            .redshift
            .cluster_status(&scope, cluster)
            .map_err(ConnectError::Refused)?
            .ok_or_else(|| ConnectError::NoCluster(cluster.to_owned()))?;
        // A cluster being modified or snapshotted still answers queries, as in Redshift.
        let serving = matches!(status.as_str(), "available" | "modifying" | "rebooting");
        let db = self.clusters.get(&key(&scope, cluster));
        if !serving || db.as_ref().is_none_or(|d| d.is_paused()) {
            return Err(ConnectError::Unavailable {
                cluster: cluster.to_owned(),
                status,
            });
        }
        Ok(())
    }

    fn connect(&self, t: &Target) -> Result<Box<dyn SqlSession>, ConnectError> {
        self.check(&t.account, &t.region, &t.cluster)?;
        let scope = Scope {
            account: t.account.clone(),
            region: t.region.clone(),
        };
        let db = self
            .clusters
            .get(&key(&scope, &t.cluster))
            .ok_or_else(|| ConnectError::NoCluster(t.cluster.clone()))?;
        let role = match &t.password {
            Some(p) => check_password(&db, &t.user, &p.0)?,
            None => t.user.clone(),
        };
        let socket = db.ensure_instance().map_err(ConnectError::Refused)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ConnectError::Refused(format!("starting a Data API session: {e}")))?;
        let mut config = Config::new();
        config
            .user(&role)
            .dbname(&t.database)
            .application_name("redshift-data")
            // A local socket: no SSL request, so the guard sees only tagged messages.
            .ssl_mode(SslMode::Disable);
        let guard = Guard::new(MAX_ROW_BYTES);
        let late = || ConnectError::Refused("the database did not answer in time".into());
        let (client, connection) = rt
            .block_on(async {
                tokio::time::timeout(CONNECT_TIMEOUT, async {
                    let socket = UnixStream::connect(&socket).await?;
                    config
                        .connect_raw(Guarded::new(socket, guard.clone()), NoTls)
                        .await
                        .map_err(|e| std::io::Error::other(message(&e)))
                })
                .await
            })
            .map_err(|_| late())?
            .map_err(|e| ConnectError::Refused(e.to_string()))?;
        // Runs whenever the session blocks on the runtime; ends when the client is dropped.
        rt.spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("a Data API connection ended: {e}");
            }
        });
        let pid: i32 = rt
            .block_on(async {
                tokio::time::timeout(
                    CONNECT_TIMEOUT,
                    client.query_one("SELECT pg_backend_pid()", &[]),
                )
                .await
            })
            .map_err(|_| late())?
            .and_then(|r| r.try_get(0))
            .map_err(|e| ConnectError::Refused(message(&e)))?;
        Ok(Box::new(PgSession {
            client,
            rt,
            pid: i64::from(pid),
            guard,
            socket,
        }))
    }
}

/// The role a secret's `user` and `password` log in as, checked against the logins the
/// cluster's Endpoint accepts (`route.rs`): the master user with its password, or a live
/// GetClusterCredentials user with its generated one. Anything else fails as PostgreSQL's
/// md5 authentication fails, with the same message.
fn check_password(db: &ClusterDb, user: &str, password: &str) -> Result<String, ConnectError> {
    let given = tidemark_redshift::md5_verifier(user, password);
    let login = db.login();
    if !login.md5.is_empty() && user == login.user && given == login.md5 {
        return Ok(user.to_owned());
    }
    match db.temporary(user) {
        Some(temp) if temp.password_md5 == given => Ok(temp.role),
        _ => Err(ConnectError::Refused(format!(
            "FATAL: password authentication failed for user \"{user}\""
        ))),
    }
}

/// PostgreSQL's own message for a server error, else the client's.
fn message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("ERROR: {}", db.message()),
        None => e.to_string(),
    }
}

fn failure(e: &tokio_postgres::Error) -> SqlFailure {
    SqlFailure {
        sqlstate: e
            .code()
            .map(|c| c.code().to_owned())
            .unwrap_or_else(|| "XX000".into()),
        message: message(e),
    }
}

/// One connection. The client is declared first so that it is dropped (closing the
/// connection's channel) before the runtime that drives the connection.
struct PgSession {
    client: Client,
    rt: Runtime,
    pid: i64,
    /// Drops rows over the limit on the socket while a user's statement runs.
    guard: Arc<Guard>,
    /// The cluster's socket, for cancel requests (the connection was made on a stream the
    /// driver does not know how to reopen).
    socket: PathBuf,
}

impl PgSession {
    /// The SQL as PostgreSQL runs it, prepared: the result's columns (`None` without rows).
    /// Preparing also refuses several statements in one, as the Data API does.
    fn prepare(&mut self, sql: &str) -> Result<(String, Option<Vec<Column>>), SqlFailure> {
        let rewritten = tidemark_redshift_sql::rewrite(sql).map_err(|e| SqlFailure {
            sqlstate: e.sqlstate.to_string(),
            message: format!("ERROR: {}", e.message),
        })?;
        let sql = rewritten.unwrap_or_else(|| sql.to_owned());
        let client = &self.client;
        let columns = self.rt.block_on(async {
            let prepared = client.prepare(&sql).await.map_err(|e| failure(&e))?;
            Ok::<_, SqlFailure>(if prepared.columns().is_empty() {
                None
            } else {
                Some(describe(client, &prepared).await)
            })
        })?;
        Ok((sql, columns))
    }
}

/// Sends PostgreSQL's cancel request for the query `token`'s session runs, over the
/// cluster's socket, and waits (at most [`CANCEL_TIMEOUT`]) for the postmaster to have
/// signalled the backend.
async fn cancel(token: &CancelToken, socket: &Path) {
    let sent = tokio::time::timeout(CANCEL_TIMEOUT, async {
        let stream = UnixStream::connect(socket)
            .await
            .map_err(|e| e.to_string())?;
        token
            .cancel_query_raw(stream, NoTls)
            .await
            .map_err(|e| e.to_string())
    })
    .await;
    match sent {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("cancelling a Data API statement: {e}"),
        Err(_) => tracing::warn!("cancelling a Data API statement: no answer"),
    }
}

impl SqlSession for PgSession {
    fn pid(&self) -> i64 {
        self.pid
    }

    fn cancel_handle(&self) -> CancelHandle {
        let token = self.client.cancel_token();
        let socket = self.socket.clone();
        Box::new(move || {
            // Called from a request thread while the session's own runtime is busy.
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(cancel(&token, &socket)),
                Err(e) => tracing::warn!("cancelling a Data API statement: {e}"),
            }
        })
    }

    fn run(&mut self, sql: &str) -> Result<Outcome, SqlFailure> {
        let (sql, columns) = self.prepare(sql)?;
        let msgs = self
            .rt
            .block_on(self.client.simple_query(&sql))
            .map_err(|e| failure(&e))?;
        let mut rows = Vec::new();
        let mut count = None;
        for m in msgs {
            match m {
                SimpleQueryMessage::Row(r) => {
                    rows.push((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
                }
                SimpleQueryMessage::CommandComplete(n) => count = Some(n),
                _ => {}
            }
        }
        let affected = count.filter(|_| reports_rows(&sql));
        Ok(Outcome {
            columns,
            rows,
            affected,
        })
    }

    fn run_into(&mut self, sql: &str, sink: &mut dyn RowSink) -> Result<Summary, SqlFailure> {
        let (sql, columns) = self.prepare(sql)?;
        if let Some(c) = &columns {
            sink.columns(c)?;
        }
        let (client, guard, socket) = (&self.client, &self.guard, &self.socket);
        guard.arm(true);
        let count = self.rt.block_on(async {
            let mut stream = pin!(
                client
                    .simple_query_raw(&sql)
                    .await
                    .map_err(|e| failure(&e))?
            );
            let mut count = None;
            // A refusal (the sink's, or the guard's for a row it dropped): the query is
            // cancelled and its remaining rows are read and dropped, never kept, so that the
            // connection is ready for the next statement.
            let mut stopped: Option<SqlFailure> = None;
            let too_large = || SqlFailure {
                sqlstate: "54000".into(),
                message: ROW_TOO_LARGE.into(),
            };
            while let Some(m) = stream.next().await {
                if stopped.is_none() && guard.tripped() {
                    stopped = Some(too_large());
                    cancel(&client.cancel_token(), socket).await;
                }
                match m {
                    Ok(SimpleQueryMessage::Row(r)) if stopped.is_none() => {
                        let values: Vec<Option<&str>> = (0..r.len()).map(|i| r.get(i)).collect();
                        if let Err(f) = sink.row(&values) {
                            stopped = Some(f);
                            // Waits for the postmaster to have signalled the backend, so
                            // the signal cannot reach a later statement.
                            cancel(&client.cancel_token(), socket).await;
                        }
                    }
                    Ok(SimpleQueryMessage::CommandComplete(n)) => count = Some(n),
                    Ok(_) => {}
                    Err(e) => return Err(stopped.unwrap_or_else(|| failure(&e))),
                }
            }
            // The last row may have been the one dropped.
            match stopped.or_else(|| guard.tripped().then(too_large)) {
                Some(f) => Err(f),
                None => Ok(count),
            }
        });
        guard.arm(false);
        let count = count?;
        Ok(Summary {
            columns,
            affected: count.filter(|_| reports_rows(&sql)),
        })
    }
}

/// Whether a statement's row count is its `ResultRows` (DML and COPY); DDL and utility
/// statements report none (-1).
fn reports_rows(sql: &str) -> bool {
    let first = sql
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    matches!(
        first.as_str(),
        "insert" | "update" | "delete" | "merge" | "copy" | "with"
    )
}

/// The columns of a prepared statement with their catalog facts (typmod, NOT NULL, default,
/// schema and table), read from `pg_attribute` for columns that come straight from a table.
async fn describe(client: &Client, stmt: &tokio_postgres::Statement) -> Vec<Column> {
    let mut attrs: HashMap<(u32, i16), Attr> = HashMap::new();
    let mut tables: Vec<u32> = stmt
        .columns()
        .iter()
        .filter_map(|c| c.table_oid())
        .collect();
    tables.sort_unstable();
    tables.dedup();
    for oid in tables {
        // Catalog reads every role may make; a failure (say, in an aborted transaction)
        // only leaves the facts at their defaults.
        let Ok(rows) = client
            .query(
                "SELECT a.attnum, a.atttypmod, a.attnotnull, n.nspname::text, c.relname::text, \
                    pg_get_expr(d.adbin, d.adrelid) \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = $1 AND a.attnum > 0",
                &[&oid],
            )
            .await
        else {
            continue;
        };
        for r in rows {
            let (Ok(num), Ok(typmod), Ok(notnull), Ok(schema), Ok(table)) = (
                r.try_get::<_, i16>(0),
                r.try_get::<_, i32>(1),
                r.try_get::<_, bool>(2),
                r.try_get::<_, String>(3),
                r.try_get::<_, String>(4),
            ) else {
                continue;
            };
            let default = r.try_get::<_, Option<String>>(5).ok().flatten();
            attrs.insert(
                (oid, num),
                Attr {
                    typmod,
                    notnull,
                    schema,
                    table,
                    default,
                },
            );
        }
    }
    stmt.columns()
        .iter()
        .map(|c| {
            let attr = c.table_oid().zip(c.column_id()).and_then(|k| attrs.get(&k));
            column(c.name(), c.type_(), attr)
        })
        .collect()
}

struct Attr {
    typmod: i32,
    notnull: bool,
    schema: String,
    table: String,
    default: Option<String>,
}

/// The mapping DescribeTable uses too (`tidemark_redshift_data::column`), so a result's
/// columns and the table's are reported alike.
fn column(name: &str, ty: &Type, attr: Option<&Attr>) -> Column {
    let origin = attr.map(|a| Origin {
        typmod: a.typmod,
        not_null: a.notnull,
        schema: a.schema.clone(),
        table: a.table.clone(),
        default: a.default.clone(),
    });
    tidemark_redshift_data::column(name, ty.oid(), ty.name(), origin.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidemark_redshift_data::ValueKind;

    #[test]
    fn only_dml_and_copy_report_row_counts() {
        assert!(reports_rows("  INSERT INTO t VALUES (1)"));
        assert!(reports_rows("update t set a = 1"));
        assert!(!reports_rows("create table t (a int)"));
        assert!(!reports_rows("select 1"));
    }

    #[test]
    fn numeric_and_varchar_take_precision_from_the_typmod() {
        let attr = |typmod| Attr {
            typmod,
            notnull: true,
            schema: "public".into(),
            table: "t".into(),
            default: None,
        };
        let c = column("n", &Type::NUMERIC, Some(&attr((12 << 16 | 2) + 4)));
        assert_eq!((c.precision, c.scale, c.nullable), (12, 2, 0));
        let c = column("v", &Type::VARCHAR, Some(&attr(20 + 4)));
        assert_eq!(
            (c.precision, c.length, c.kind),
            (20, 20, Some(ValueKind::String))
        );
        assert_eq!(column("x", &Type::INT8, None).kind, Some(ValueKind::Long));
    }
}
