//! GetClusterCredentials and GetClusterCredentialsWithIAM: a temporary database user name
//! and password that the cluster's Endpoint accepts until they expire on the virtual clock.
//! GetClusterCredentials answers `IAM:<DbUser>` (`IAMA:<DbUser>` with AutoCreate, which
//! creates the user at its first login); the session runs as `<DbUser>`, joining DbGroups.
//! GetClusterCredentialsWithIAM maps the caller's identity to the database user `IAM:<name>`,
//! created at first login.

use rand::Rng;
use rand::distr::Alphanumeric;
use tidemark_core::{RequestContext, Timestamp};
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};

use crate::RedshiftService;
use crate::catalog::Scope;
use crate::cluster_rules::ipv;
use crate::database::{TempLogin, md5_verifier};
use crate::jobs::ts;
use crate::rules;

/// AWS's default and bounds for DurationSeconds.
const DEFAULT_SECS: i32 = 900;
const MIN_SECS: i32 = 900;
const MAX_SECS: i32 = 3600;

fn duration(secs: Option<i32>) -> Result<i32, CommonError> {
    let secs = secs.unwrap_or(DEFAULT_SECS);
    if !(MIN_SECS..=MAX_SECS).contains(&secs) {
        return Err(ipv(format!(
            "The parameter DurationSeconds must be between {MIN_SECS} and {MAX_SECS} (got {secs})."
        )));
    }
    Ok(secs)
}

/// A database user or group name as Redshift takes them: 1 to 128 characters, letters,
/// digits, `_`, `+`, `.`, `@`, `-`, starting with a letter or `_`, not `public`.
fn check_db_name(param: &str, name: &str) -> Result<(), CommonError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+.@-".contains(c))
        && !name.eq_ignore_ascii_case("public");
    if ok {
        Ok(())
    } else {
        Err(ipv(format!("The parameter {param} is not valid: {name}")))
    }
}

/// A random password Redshift would accept: 64 letters and digits.
fn password() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(64)
        .map(char::from)
        .collect()
}

/// Why credentials for a cluster are refused.
enum Refusal {
    NotFound(String),
    NotAvailable(String),
}

impl RedshiftService {
    /// Credentials are given for an existing, available cluster only.
    fn refusal(&self, scope: &Scope, id: &str) -> Result<Option<Refusal>, CommonError> {
        Ok(match self.load_cluster(scope, id)? {
            None => Some(Refusal::NotFound(rules::cluster_not_found(id))),
            Some(rec) if rec.cluster.cluster_status.as_deref() != Some("available") => {
                Some(Refusal::NotAvailable(format!(
                    "The cluster {id} is not available (it is {}).",
                    rec.cluster.cluster_status.as_deref().unwrap_or_default()
                )))
            }
            Some(_) => None,
        })
    }

    fn issue(&self, scope: &Scope, id: &str, login: TempLogin) -> Result<(), CommonError> {
        self.db
            .grant_temporary(scope, id, login)
            .map_err(CommonError::Internal)
    }

    pub(crate) fn get_cluster_credentials_impl(
        &self,
        ctx: &RequestContext,
        input: GetClusterCredentialsMessage,
    ) -> Result<ClusterCredentials, OpError<GetClusterCredentialsError>> {
        type E = GetClusterCredentialsError;
        let scope = Scope::of(ctx);
        let user = input.db_user.clone().unwrap_or_default();
        check_db_name("DbUser", &user)?;
        if let Some(db) = &input.db_name {
            check_db_name("DbName", db)?;
        }
        let groups = input.db_groups.clone().unwrap_or_default();
        for g in &groups {
            check_db_name("DbGroups", g)?;
        }
        let secs = duration(input.duration_seconds)?;
        let id = input
            .cluster_identifier
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match self.refusal(&scope, &id)? {
            Some(Refusal::NotFound(m)) => return Err(E::cluster_not_found_fault(m).into()),
            Some(Refusal::NotAvailable(m)) => return Err(E::unsupported_operation_fault(m).into()),
            None => {}
        }
        let auto_create = input.auto_create.unwrap_or(false);
        let login_user = format!("{}:{user}", if auto_create { "IAMA" } else { "IAM" });
        let pw = password();
        let expires = expiry(self.now(), secs);
        self.issue(
            &scope,
            &id,
            TempLogin {
                password_md5: md5_verifier(&login_user, &pw),
                login_user: login_user.clone(),
                role: user,
                database: input.db_name.clone(),
                expires,
                auto_create,
                groups,
            },
        )?;
        Ok(ClusterCredentials {
            db_user: Some(login_user),
            db_password: Some(pw),
            expiration: Some(ts(expires)),
        })
    }

    pub(crate) fn get_cluster_credentials_with_iam_impl(
        &self,
        ctx: &RequestContext,
        input: GetClusterCredentialsWithIAMMessage,
    ) -> Result<ClusterExtendedCredentials, OpError<GetClusterCredentialsWithIAMError>> {
        type E = GetClusterCredentialsWithIAMError;
        let scope = Scope::of(ctx);
        if let Some(db) = &input.db_name {
            check_db_name("DbName", db)?;
        }
        let secs = duration(input.duration_seconds)?;
        let id = input
            .cluster_identifier
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match self.refusal(&scope, &id)? {
            Some(Refusal::NotFound(m)) => return Err(E::cluster_not_found_fault(m).into()),
            Some(Refusal::NotAvailable(m)) => return Err(E::unsupported_operation_fault(m).into()),
            None => {}
        }
        // The caller's IAM user name (the credentials file's `name`, else the account id).
        let name: String = ctx
            .principal
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "_+.@-".contains(*c))
            .collect();
        let login_user = format!("IAM:{name}");
        let pw = password();
        let now = self.now();
        let expires = expiry(now, secs);
        self.issue(
            &scope,
            &id,
            TempLogin {
                password_md5: md5_verifier(&login_user, &pw),
                login_user: login_user.clone(),
                role: login_user.clone(),
                database: input.db_name.clone(),
                expires,
                auto_create: true,
                groups: Vec::new(),
            },
        )?;
        Ok(ClusterExtendedCredentials {
            db_user: Some(login_user),
            db_password: Some(pw),
            expiration: Some(ts(expires)),
            next_refresh_time: Some(ts(expires)),
        })
    }
}

fn expiry(now: Timestamp, secs: i32) -> Timestamp {
    rules::plus_secs(now, i64::from(secs))
}
