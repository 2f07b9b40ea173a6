//! SQL the glue needs on an instance: statements, databases, login roles, sizes.

use crate::error::{PgError, Result};
use crate::instance::Instance;
use crate::sql::{check_name, quote_ident, quote_literal, simple_rows};

/// PostgreSQL's SQLSTATE for "already exists" of a database and of a role.
const DUPLICATE_DATABASE: &str = "42P04";
const DUPLICATE_OBJECT: &str = "42710";

/// Names of [`Instance::restore_table`]'s scratch databases (`tidemark_scratch_<pid>_<n>`).
pub(crate) const SCRATCH_PREFIX: &str = "tidemark_scratch_";
/// The same as a LIKE pattern.
const SCRATCH_PATTERN: &str = "tidemark\\_scratch\\_%";

impl Instance {
    /// Runs one or more statements in `db` (simple protocol).
    pub fn execute(&self, db: &str, sql: &str) -> Result<()> {
        self.connect(db)?
            .batch_execute(sql)
            .map_err(|e| PgError::sql(db, e))
    }

    /// Runs `sql` in `db` and returns the rows of its results as text (`None` for NULL). All
    /// rows are held in memory: meant for tidemark's own small catalog queries, not for
    /// clients' SQL.
    pub fn query(&self, db: &str, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        simple_rows(&mut self.connect(db)?, db, sql)
    }

    /// Creates database `name` owned by `owner` unless it exists (the owner of an existing one
    /// is left alone). New databases are copies of `template1`, so they carry the setup SQL.
    pub fn ensure_database(&self, name: &str, owner: &str) -> Result<()> {
        check_name(name)?;
        check_name(owner)?;
        let mut c = self.connect("postgres")?;
        let exists = simple_rows(
            &mut c,
            "postgres",
            &format!(
                "SELECT 1 FROM pg_database WHERE datname = {}",
                quote_literal(name)
            ),
        )?;
        if !exists.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "CREATE DATABASE {} OWNER {}",
            quote_ident(name),
            quote_ident(owner)
        );
        match c.batch_execute(&sql) {
            Ok(()) => Ok(()),
            // Lost a race with another creator: the database exists, which is what was asked.
            Err(e) if e.code().is_some_and(|c| c.code() == DUPLICATE_DATABASE) => Ok(()),
            Err(e) => Err(PgError::sql("postgres", e)),
        }
    }

    /// Creates login role `name` (or makes an existing one a login role) with or without
    /// superuser. Passwords are the Endpoint's business: the server is reached only through
    /// its private socket.
    pub fn ensure_login_role(&self, name: &str, superuser: bool) -> Result<()> {
        check_name(name)?;
        let attrs = if superuser {
            "LOGIN SUPERUSER"
        } else {
            "LOGIN NOSUPERUSER"
        };
        let mut c = self.connect("postgres")?;
        match c.batch_execute(&format!("CREATE ROLE {} {attrs}", quote_ident(name))) {
            Ok(()) => Ok(()),
            Err(e) if e.code().is_some_and(|c| c.code() == DUPLICATE_OBJECT) => c
                .batch_execute(&format!("ALTER ROLE {} {attrs}", quote_ident(name)))
                .map_err(|e| PgError::sql("postgres", e)),
            Err(e) => Err(PgError::sql("postgres", e)),
        }
    }

    /// The databases a client can connect to (every one but the templates and
    /// [`Instance::restore_table`]'s scratch databases), sorted by name.
    pub fn databases(&self) -> Result<Vec<String>> {
        let rows = self.query(
            "postgres",
            &format!(
                "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate \
                 AND datname NOT LIKE '{SCRATCH_PATTERN}' ORDER BY datname"
            ),
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect())
    }

    /// Each database of [`Instance::databases`] with its size in bytes (`pg_database_size`).
    pub fn database_sizes(&self) -> Result<Vec<(String, u64)>> {
        let rows = self.query(
            "postgres",
            &format!(
                "SELECT datname, pg_database_size(oid) FROM pg_database \
                 WHERE datallowconn AND NOT datistemplate AND datname NOT LIKE '{SCRATCH_PATTERN}' \
                 ORDER BY datname"
            ),
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let mut it = r.into_iter();
                let name = it.next().flatten()?;
                let size = it.next().flatten()?.parse().ok()?;
                Some((name, size))
            })
            .collect())
    }
}
