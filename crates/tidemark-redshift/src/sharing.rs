//! AuthorizeSnapshotAccess / RevokeSnapshotAccess (§3.14). Grants live on the snapshot and,
//! for account grantees, in the grant index under the grantee's scope so that the grantee's
//! Describe and Restore can find them.

use tidemark_core::RequestContext;
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};

use crate::RedshiftService;
use crate::catalog::{self, GRANTS_TABLE, SNAPSHOTS_TABLE, Scope, SnapRec, internal};
use crate::describe::{load_snapshot, parse_snapshot_arn};
use crate::rules;

const SUPPORT_ALIAS: &str = "amazon-redshift-support";

/// How a sharing call names its snapshot.
pub(crate) enum Lookup {
    Found(Box<SnapRec>),
    /// Not owned by the caller, but shared with it.
    SharedWithCaller,
    Missing(String),
}

impl RedshiftService {
    /// Finds the caller's own snapshot named by id or ARN (+ optional cluster check).
    pub(crate) fn own_snapshot(
        &self,
        scope: &Scope,
        id: Option<&str>,
        arn: Option<&str>,
        cluster: Option<&str>,
    ) -> Result<Lookup, CommonError> {
        let (id, owner) = match (id, arn) {
            (Some(_), Some(_)) => {
                return Err(CommonError::InvalidParameterCombination(
                    "Specify either SnapshotIdentifier or SnapshotArn, not both.".into(),
                ));
            }
            (None, None) => {
                return Err(CommonError::MissingParameter(
                    "SnapshotIdentifier or SnapshotArn is required.".into(),
                ));
            }
            (Some(id), None) => (id.to_owned(), scope.account.clone()),
            (None, Some(arn)) => match parse_snapshot_arn(arn) {
                Some((account, _, _, snap)) => (snap, account),
                None => {
                    return Err(CommonError::InvalidParameterValue(format!(
                        "Invalid snapshot ARN: {arn}"
                    )));
                }
            },
        };
        let txn = self.store.read().map_err(internal)?;
        let own = if owner == scope.account {
            load_snapshot(&*txn, scope, &id)?
        } else {
            None
        };
        match own {
            Some(rec)
                if cluster.is_none_or(|c| {
                    rec.snap.cluster_identifier.as_deref() == Some(c.to_ascii_lowercase().as_str())
                }) =>
            {
                Ok(Lookup::Found(Box::new(rec)))
            }
            Some(_) => Ok(Lookup::Missing(rules::snapshot_not_found(&id))),
            None => {
                let shared = self
                    .visible_snapshots(scope)?
                    .into_iter()
                    .any(|v| v.owner != *scope && v.rec.id() == id.to_ascii_lowercase());
                Ok(if shared {
                    Lookup::SharedWithCaller
                } else {
                    Lookup::Missing(rules::snapshot_not_found(&id))
                })
            }
        }
    }

    fn save_grants(
        &self,
        scope: &Scope,
        rec: &SnapRec,
        account: &str,
        add: bool,
    ) -> Result<(), CommonError> {
        let mut w = self.store.write().map_err(internal)?;
        catalog::put(&mut *w, SNAPSHOTS_TABLE, &scope.key(rec.id()), rec)?;
        if account != SUPPORT_ALIAS {
            let grantee = Scope {
                account: account.to_owned(),
                region: scope.region.clone(),
            };
            let key = grantee.grant_key(&scope.account, rec.id());
            if add {
                w.put(GRANTS_TABLE, &key, b"").map_err(internal)?;
            } else {
                w.delete(GRANTS_TABLE, &key).map_err(internal)?;
            }
        }
        w.commit().map_err(internal)
    }

    pub(crate) fn authorize_impl(
        &self,
        ctx: &RequestContext,
        input: AuthorizeSnapshotAccessMessage,
    ) -> Result<AuthorizeSnapshotAccessResult, OpError<AuthorizeSnapshotAccessError>> {
        type E = AuthorizeSnapshotAccessError;
        let scope = Scope::of(ctx);
        let account = input
            .account_with_restore_access
            .clone()
            .unwrap_or_default();
        if account != SUPPORT_ALIAS && tidemark_core::AccountId::parse(&account).is_none() {
            return Err(CommonError::InvalidParameterValue(format!(
                "Invalid account id {account}: it must be 12 digits."
            ))
            .into());
        }
        if account == scope.account {
            return Err(CommonError::InvalidParameterValue(
                "The owner account is always authorized; you cannot authorize it.".into(),
            )
            .into());
        }
        let mut rec = match self.own_snapshot(
            &scope,
            input.snapshot_identifier.as_deref(),
            input.snapshot_arn.as_deref(),
            input.snapshot_cluster_identifier.as_deref(),
        )? {
            Lookup::Found(rec) => *rec,
            Lookup::SharedWithCaller => {
                return Err(E::cluster_snapshot_not_found_fault(
                    "Only the owner of a snapshot can share it.",
                )
                .into());
            }
            Lookup::Missing(m) => return Err(E::cluster_snapshot_not_found_fault(m).into()),
        };
        if rec.is_automated() || rec.status() != "available" {
            return Err(E::invalid_cluster_snapshot_state_fault(format!(
                "Snapshot {} cannot be shared: only manual snapshots in the available state can be shared.",
                rec.id()
            ))
            .into());
        }
        if rec.grants.contains(&account) {
            return Err(E::authorization_already_exists_fault(format!(
                "Account {account} is already authorized to restore snapshot {}.",
                rec.id()
            ))
            .into());
        }
        if rec.grants.len() >= rules::MAX_GRANTS {
            return Err(E::authorization_quota_exceeded_fault(format!(
                "Snapshot {} is already shared with the maximum of {} accounts.",
                rec.id(),
                rules::MAX_GRANTS
            ))
            .into());
        }
        rec.grants.push(account.clone());
        self.save_grants(&scope, &rec, &account, true)?;
        Ok(AuthorizeSnapshotAccessResult {
            snapshot: Some(self.render(&rec, &scope)),
        })
    }

    pub(crate) fn revoke_impl(
        &self,
        ctx: &RequestContext,
        input: RevokeSnapshotAccessMessage,
    ) -> Result<RevokeSnapshotAccessResult, OpError<RevokeSnapshotAccessError>> {
        type E = RevokeSnapshotAccessError;
        let scope = Scope::of(ctx);
        let account = input
            .account_with_restore_access
            .clone()
            .unwrap_or_default();
        let mut rec = match self.own_snapshot(
            &scope,
            input.snapshot_identifier.as_deref(),
            input.snapshot_arn.as_deref(),
            input.snapshot_cluster_identifier.as_deref(),
        )? {
            Lookup::Found(rec) => *rec,
            Lookup::SharedWithCaller => {
                return Err(E::access_to_snapshot_denied_fault(
                    "Only the owner of a snapshot can revoke access to it.",
                )
                .into());
            }
            Lookup::Missing(m) => return Err(E::cluster_snapshot_not_found_fault(m).into()),
        };
        let Some(pos) = rec.grants.iter().position(|a| *a == account) else {
            return Err(E::authorization_not_found_fault(format!(
                "Account {account} is not authorized to restore snapshot {}.",
                rec.id()
            ))
            .into());
        };
        rec.grants.remove(pos);
        self.save_grants(&scope, &rec, &account, false)?;
        Ok(RevokeSnapshotAccessResult {
            snapshot: Some(self.render(&rec, &scope)),
        })
    }
}
