//! What the Endpoint proxy asks of a cluster: who may log in (the master user with the
//! password from CreateCluster or ModifyCluster), where its PostgreSQL is (started on
//! first use), and how its Redshift SQL reads in PostgreSQL.

use std::path::PathBuf;
use std::sync::Weak;

use tidemark_pgproxy::{BackendError, Login, LoginError, Route, SqlError};

use super::cluster::ClusterDb;

pub(crate) struct ClusterRoute {
    db: Weak<ClusterDb>,
}

impl ClusterRoute {
    pub fn new(db: Weak<ClusterDb>) -> Self {
        Self { db }
    }
}

const GONE: &str = "the cluster no longer exists";

impl Route for ClusterRoute {
    fn login(&self, user: &str, database: &str) -> Result<Login, LoginError> {
        let db = self
            .db
            .upgrade()
            .ok_or_else(|| LoginError::Unavailable(GONE.into()))?;
        if db.is_paused() {
            return Err(LoginError::Unavailable("the cluster is paused".into()));
        }
        let login = db.login();
        if !login.md5.is_empty() && user == login.user {
            return Ok(Login {
                md5_verifier: login.md5,
                backend_user: user.to_owned(),
                backend_database: database.to_owned(),
            });
        }
        let temp = db.temporary(user).ok_or(LoginError::UnknownUser)?;
        if temp.database.as_deref().is_some_and(|d| d != database) {
            return Err(LoginError::UnknownUser);
        }
        if temp.auto_create || !temp.groups.is_empty() {
            // The user (and its groups) exist by the time the password is checked; a wrong
            // password then still fails. Only holders of a live credential get this far.
            db.with_instance(|i| {
                if temp.auto_create {
                    i.ensure_login_role(&temp.role, false)
                        .map_err(|e| e.to_string())?;
                }
                for g in &temp.groups {
                    i.execute(
                        "postgres",
                        &format!(
                            "GRANT {} TO {}",
                            tidemark_postgres::quote_ident(g),
                            tidemark_postgres::quote_ident(&temp.role)
                        ),
                    )
                    .map_err(|e| e.to_string())?;
                }
                Ok(())
            })
            .map_err(LoginError::Unavailable)?;
        }
        Ok(Login {
            md5_verifier: temp.password_md5,
            backend_user: temp.role,
            backend_database: database.to_owned(),
        })
    }

    fn backend(&self) -> Result<PathBuf, BackendError> {
        let db = self.db.upgrade().ok_or_else(|| BackendError(GONE.into()))?;
        db.ensure_instance().map_err(BackendError)
    }

    fn rewrite(&self, sql: &str) -> Result<Option<String>, SqlError> {
        let mut seen = tidemark_redshift_sql::Seen::default();
        let out = tidemark_redshift_sql::rewrite_seeing(sql, &mut seen).map_err(|e| SqlError {
            sqlstate: e.sqlstate.to_string(),
            message: e.message,
        })?;
        if seen.stl_query
            && let Some(db) = self.db.upgrade()
        {
            // The view reads the history from a file: written now, before the statement
            // that reads it runs. A failure leaves the view showing the last one written.
            if let Err(e) = db
                .pgdata()
                .and_then(|d| db.recent.publish(&d).map_err(|e| e.to_string()))
            {
                tracing::warn!("writing STL_QUERY's history: {e}");
            }
        }
        Ok(out)
    }

    fn executed(&self, sql: &str) {
        if let Some(db) = self.db.upgrade() {
            db.recent.push(sql);
        }
    }
}
