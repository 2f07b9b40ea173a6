//! The Data API's way into the clusters' databases (`tidemark_redshift_data::SqlBackend`).
//!
//! A statement logs in over the cluster's unix socket as its `DbUser` itself: PostgreSQL
//! trusts local logins, so the role must exist (as a Redshift user must), its privileges
//! apply, and `current_user` is what the client asked for. We chose that over logging in as
//! the superuser and `SET SESSION AUTHORIZATION`, which a statement could undo with `RESET`.
//!
//! The sync `postgres` crate runs on the Data API's own worker threads: each statement holds
//! its connection for its whole run and nothing else waits on that thread, so an async
//! client would only add a runtime hop (`tidemark-postgres` uses the same crate).
//!
//! Each statement is first prepared (PostgreSQL describes its result columns and their
//! types) and then run with the simple protocol, whose rows come back as PostgreSQL's text,
//! which is what the Data API returns for every type it sends as a string (numerics, dates,
//! timestamps). The SQL goes through `tidemark_redshift_sql::rewrite` exactly as the
//! Endpoint's proxy sends it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use postgres::types::Type;
use postgres::{Client, Config, NoTls, SimpleQueryMessage};
use tidemark_redshift::{RedshiftService, Scope};
use tidemark_redshift_data::{
    CancelHandle, Column, ConnectError, Origin, Outcome, SqlBackend, SqlFailure, SqlSession, Target,
};

use super::cluster::ClusterDb;
use super::{PgClusters, key};

/// A login that takes longer than this is reported as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
        let dir = socket.parent().unwrap_or(Path::new("/"));
        let mut client = Config::new()
            .host_path(dir)
            .port(5432)
            .user(&role)
            .dbname(&t.database)
            .application_name("redshift-data")
            .connect_timeout(CONNECT_TIMEOUT)
            .connect(NoTls)
            .map_err(|e| ConnectError::Refused(message(&e)))?;
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| ConnectError::Refused(message(&e)))?;
        Ok(Box::new(PgSession {
            client,
            pid: i64::from(pid),
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
fn message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("ERROR: {}", db.message()),
        None => e.to_string(),
    }
}

fn failure(e: &postgres::Error) -> SqlFailure {
    SqlFailure {
        sqlstate: e
            .code()
            .map(|c| c.code().to_owned())
            .unwrap_or_else(|| "XX000".into()),
        message: message(e),
    }
}

struct PgSession {
    client: Client,
    pid: i64,
}

impl SqlSession for PgSession {
    fn pid(&self) -> i64 {
        self.pid
    }

    fn cancel_handle(&self) -> CancelHandle {
        let token = self.client.cancel_token();
        Box::new(move || {
            if let Err(e) = token.cancel_query(NoTls) {
                tracing::warn!("cancelling a Data API statement: {e}");
            }
        })
    }

    fn run(&mut self, sql: &str) -> Result<Outcome, SqlFailure> {
        let rewritten = tidemark_redshift_sql::rewrite(sql).map_err(|e| SqlFailure {
            sqlstate: e.sqlstate.to_string(),
            message: format!("ERROR: {}", e.message),
        })?;
        let sql = rewritten.as_deref().unwrap_or(sql);
        // Describes the result (and refuses several statements in one, as the Data API does).
        let prepared = self.client.prepare(sql).map_err(|e| failure(&e))?;
        let columns =
            (!prepared.columns().is_empty()).then(|| describe(&mut self.client, &prepared));
        let msgs = self.client.simple_query(sql).map_err(|e| failure(&e))?;
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
        let affected = count.filter(|_| reports_rows(sql));
        Ok(Outcome {
            columns,
            rows,
            affected,
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
fn describe(client: &mut Client, stmt: &postgres::Statement) -> Vec<Column> {
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
        let Ok(rows) = client.query(
            "SELECT a.attnum, a.atttypmod, a.attnotnull, n.nspname::text, c.relname::text, \
                    pg_get_expr(d.adbin, d.adrelid) \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = $1 AND a.attnum > 0",
            &[&oid],
        ) else {
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
