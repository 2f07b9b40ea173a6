//! Connections to an instance over its unix socket, as the superuser, and identifier quoting.

use std::path::Path;
use std::time::Duration;

use postgres::{Client, Config, NoTls, SimpleQueryMessage};

use crate::error::{PgError, Result};
use crate::template::SUPERUSER;

/// Connects to `db` through the socket in `socket_dir` as the superuser (trust auth: the
/// socket directory is private to the server's account and root). With `statement_timeout`,
/// no statement on the connection (and no wait for a lock) runs longer than that.
pub(crate) fn connect(
    socket_dir: &Path,
    db: &str,
    timeout: Duration,
    statement_timeout: Option<Duration>,
) -> Result<Client> {
    let mut cfg = Config::new();
    cfg.host_path(socket_dir)
        .port(5432)
        .user(SUPERUSER)
        .dbname(db)
        .application_name("tidemark")
        .connect_timeout(timeout);
    if let Some(t) = statement_timeout {
        cfg.options(&format!("-c statement_timeout={}", t.as_millis().max(1)));
    }
    cfg.connect(NoTls).map_err(|e| PgError::sql(db, e))
}

/// Runs `sql` (one or more statements, simple protocol) and returns every row's text values.
pub(crate) fn simple_rows(
    client: &mut Client,
    db: &str,
    sql: &str,
) -> Result<Vec<Vec<Option<String>>>> {
    let msgs = client.simple_query(sql).map_err(|e| PgError::sql(db, e))?;
    Ok(msgs
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .collect())
}

/// A name checked to be a valid PostgreSQL identifier (1..=63 bytes, no NUL).
pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 63 || name.contains('\0') {
        return Err(PgError::InvalidName(name.to_owned()));
    }
    Ok(())
}

/// `"name"` with inner quotes doubled: safe to splice into SQL for any checked name.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `'text'` with inner quotes doubled (standard_conforming_strings is on).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}
