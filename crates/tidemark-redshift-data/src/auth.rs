//! Who a request runs as and on which cluster: its `DbUser`, or the `username` and `password`
//! of the secret its `SecretArn` names (the password is checked when the backend logs in);
//! `WorkgroupName` names a Redshift Serverless workgroup, which tidemark does not serve, so
//! it answers as AWS does for a workgroup that does not exist.

use serde_json::Value;
use tidemark_model::RequestContext;

use crate::Inner;
use crate::backend::{ConnectError, Password, Target};
use crate::error::DataError;

/// AWS's answer for a cluster or workgroup that is not in the caller's account and region.
pub const NO_ENDPOINT: &str = "Redshift endpoint doesn't exist in this region.";

/// What a request says about the login, as given.
pub struct Given<'a> {
    pub cluster: Option<&'a str>,
    pub workgroup: Option<&'a str>,
    pub db_user: Option<&'a str>,
    pub secret_arn: Option<&'a str>,
}

fn invalid(m: impl Into<String>) -> DataError {
    DataError::Validation(m.into())
}

/// The cluster's status as an API error, for requests answered before any login.
pub fn connect_error(e: ConnectError) -> DataError {
    match e {
        ConnectError::NoCluster(_) => invalid(NO_ENDPOINT),
        ConnectError::Unavailable { cluster, status } => invalid(format!(
            "Cluster {cluster} is not available: its status is {status}"
        )),
        ConnectError::Refused(m) => DataError::Connection(m),
    }
}

/// Resolves the login for `database` and checks that the cluster exists and serves; the
/// password, when there is one, is checked by the backend when it connects.
pub fn target(
    inner: &Inner,
    ctx: &RequestContext,
    g: &Given<'_>,
    database: &str,
) -> Result<Target, DataError> {
    let account = ctx.account.as_str();
    let cluster = match (g.cluster, g.workgroup) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "ClusterIdentifier and WorkgroupName cannot both be specified",
            ));
        }
        // No workgroup exists here: tidemark serves provisioned clusters only.
        (None, Some(_)) => return Err(invalid(NO_ENDPOINT)),
        (None, None) => {
            return Err(invalid(
                "Either ClusterIdentifier or WorkgroupName needs to be specified.",
            ));
        }
        (Some(c), None) => c,
    };
    let (user, password) = match (g.db_user, g.secret_arn) {
        (Some(_), Some(_)) => {
            return Err(invalid("DbUser and SecretArn cannot both be specified"));
        }
        (Some(u), None) => (u.to_owned(), None),
        (None, Some(id)) => {
            let secret = inner
                .secrets
                .get(account, &ctx.region, id)
                .map_err(|e| DataError::Internal(e.to_string()))?
                // Secrets Manager's own message for a secret it does not hold.
                .ok_or_else(|| invalid("Secrets Manager can't find the specified secret."))?;
            let creds = credentials(&secret.secret_string)?;
            if let Some(c) = &creds.cluster
                && !c.eq_ignore_ascii_case(cluster)
            {
                return Err(invalid(format!(
                    "The dbClusterIdentifier in the secret ({c}) does not match ClusterIdentifier ({cluster})"
                )));
            }
            (creds.username, Some(Password(creds.password)))
        }
        (None, None) => {
            return Err(invalid(
                "Either DbUser or SecretArn must be specified for a cluster",
            ));
        }
    };
    inner
        .backend
        .check(account, &ctx.region, cluster)
        .map_err(connect_error)?;
    Ok(Target {
        account: account.to_owned(),
        region: ctx.region.clone(),
        cluster: cluster.to_owned(),
        database: database.to_owned(),
        user,
        password,
    })
}

/// A Redshift secret's fields, as the Data API reads them.
#[derive(Debug, PartialEq, Eq)]
struct Credentials {
    username: String,
    password: String,
    cluster: Option<String>,
}

fn credentials(secret_string: &str) -> Result<Credentials, DataError> {
    // AWS's message when the secret lacks either key (or is not a JSON object at all).
    let empty = || invalid("username and password in secret cannot be empty");
    let v: Value = serde_json::from_str(secret_string).map_err(|_| empty())?;
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(Credentials {
        username: text("username").ok_or_else(empty)?,
        password: text("password").ok_or_else(empty)?,
        cluster: text("dbClusterIdentifier"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_needs_a_username_and_a_password() {
        let c = credentials(
            r#"{"username":"admin","password":"pw","engine":"redshift","dbClusterIdentifier":"c1"}"#,
        );
        assert_eq!(
            c,
            Ok(Credentials {
                username: "admin".into(),
                password: "pw".into(),
                cluster: Some("c1".into())
            })
        );
        let empty = Err(invalid("username and password in secret cannot be empty"));
        assert_eq!(credentials(r#"{"username":"admin"}"#), empty);
        assert_eq!(credentials(r#"{"username":"","password":"x"}"#), empty);
        assert_eq!(credentials("not json"), empty);
        assert_eq!(credentials(r#"["username","password"]"#), empty);
    }
}
