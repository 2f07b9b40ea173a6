//! Snapshot copy grants: CreateSnapshotCopyGrant, DescribeSnapshotCopyGrants and
//! DeleteSnapshotCopyGrant. A grant lets Redshift use a KMS key of the destination region to
//! encrypt copied snapshots; it lives in the region where it was created (the destination of
//! the clusters that name it), at most [`MAX_GRANTS`] per account and region.

use serde::{Deserialize, Serialize};
use tidemark_core::RequestContext;
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};
use tidemark_store::{Reads, keys};

use crate::RedshiftService;
use crate::catalog::{self, CLUSTERS_TABLE, ClusterRec, Scope, internal};
use crate::rules;

/// Copy grants: key = scope ‖ grant name (lower-case); value = JSON [`GrantRec`].
pub const COPY_GRANTS_TABLE: &str = "redshift.copy_grants";
/// AWS's quota of snapshot copy grants per account and region.
pub const MAX_GRANTS: usize = 5;

/// A stored snapshot copy grant.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct GrantRec {
    pub name: String,
    pub kms_key_id: String,
    pub tags: Vec<Tag>,
}

impl GrantRec {
    pub fn view(&self) -> SnapshotCopyGrant {
        SnapshotCopyGrant {
            snapshot_copy_grant_name: Some(self.name.clone()),
            kms_key_id: Some(self.kms_key_id.clone()),
            tags: Some(self.tags.clone()),
        }
    }
}

pub(crate) fn grant_not_found(name: &str) -> String {
    format!("Snapshot copy grant not found: {name}")
}

/// The grant `name` of `scope`, if any.
pub(crate) fn load_grant(
    txn: &(impl Reads + ?Sized),
    scope: &Scope,
    name: &str,
) -> Result<Option<GrantRec>, CommonError> {
    catalog::get(
        txn,
        COPY_GRANTS_TABLE,
        &scope.key(&name.to_ascii_lowercase()),
    )
}

impl RedshiftService {
    pub(crate) fn create_copy_grant_impl(
        &self,
        ctx: &RequestContext,
        input: CreateSnapshotCopyGrantMessage,
    ) -> Result<CreateSnapshotCopyGrantResult, OpError<CreateSnapshotCopyGrantError>> {
        type E = CreateSnapshotCopyGrantError;
        let scope = Scope::of(ctx);
        let name = rules::cluster_identifier(
            "SnapshotCopyGrantName",
            input
                .snapshot_copy_grant_name
                .as_deref()
                .unwrap_or_default(),
        )?;
        let tags = input.tags.unwrap_or_default();
        if let Err((limit, m)) = rules::check_tags(0, &tags) {
            return Err(if limit {
                E::tag_limit_exceeded_fault(m)
            } else {
                E::invalid_tag_fault(m)
            }
            .into());
        }
        // Without a key the grant is on the region's AWS-managed Redshift key.
        let partition = tidemark_core::ids::partition_of(&scope.region);
        let kms_key_id = input.kms_key_id.unwrap_or_else(|| {
            format!(
                "arn:{partition}:kms:{}:{}:alias/aws/redshift",
                scope.region, scope.account
            )
        });
        let mut w = self.store.write().map_err(internal)?;
        let key = scope.key(&name);
        if w.get(COPY_GRANTS_TABLE, &key).map_err(internal)?.is_some() {
            return Err(E::snapshot_copy_grant_already_exists_fault(format!(
                "Cannot create the snapshot copy grant because a grant with the identifier '{name}' already exists"
            ))
            .into());
        }
        let mut count = 0;
        for entry in w
            .scan_prefix(COPY_GRANTS_TABLE, &scope.prefix())
            .map_err(internal)?
        {
            entry.map_err(internal)?;
            count += 1;
        }
        if count >= MAX_GRANTS {
            return Err(E::snapshot_copy_grant_quota_exceeded_fault(format!(
                "The AWS account has exceeded the maximum number of snapshot copy grants ({MAX_GRANTS}) in this region."
            ))
            .into());
        }
        let rec = GrantRec {
            name,
            kms_key_id,
            tags,
        };
        catalog::put(&mut *w, COPY_GRANTS_TABLE, &key, &rec)?;
        w.commit().map_err(internal)?;
        Ok(CreateSnapshotCopyGrantResult {
            snapshot_copy_grant: Some(rec.view()),
        })
    }

    pub(crate) fn describe_copy_grants_impl(
        &self,
        ctx: &RequestContext,
        input: DescribeSnapshotCopyGrantsMessage,
    ) -> Result<SnapshotCopyGrantMessage, OpError<DescribeSnapshotCopyGrantsError>> {
        type E = DescribeSnapshotCopyGrantsError;
        let scope = Scope::of(ctx);
        let limit = rules::page_size(input.max_records, 20, 100)?;
        let after = input
            .marker
            .as_deref()
            .map(catalog::decode_marker)
            .transpose()?;
        let keys = input.tag_keys.unwrap_or_default();
        let values = input.tag_values.unwrap_or_default();
        let txn = self.store.read().map_err(internal)?;
        let all: Vec<GrantRec> = match &input.snapshot_copy_grant_name {
            Some(name) => match load_grant(&*txn, &scope, name)? {
                Some(g) => vec![g],
                None => {
                    return Err(
                        E::snapshot_copy_grant_not_found_fault(grant_not_found(name)).into(),
                    );
                }
            },
            None => catalog::scan(&*txn, COPY_GRANTS_TABLE, &scope.prefix())?,
        };
        drop(txn);
        let mut page = Vec::new();
        let mut marker = None;
        // Grants come in name order, so a marker (the last name returned) resumes the scan.
        for g in all {
            if after.as_ref().is_some_and(|a| &g.name <= a)
                || !rules::tags_match(&g.tags, &keys, &values)
            {
                continue;
            }
            if page.len() == limit {
                marker = page
                    .last()
                    .map(|v: &GrantRec| catalog::encode_marker(&v.name));
                break;
            }
            page.push(g);
        }
        Ok(SnapshotCopyGrantMessage {
            marker,
            snapshot_copy_grants: Some(page.iter().map(GrantRec::view).collect()),
        })
    }

    pub(crate) fn delete_copy_grant_impl(
        &self,
        ctx: &RequestContext,
        input: DeleteSnapshotCopyGrantMessage,
    ) -> Result<(), OpError<DeleteSnapshotCopyGrantError>> {
        type E = DeleteSnapshotCopyGrantError;
        let scope = Scope::of(ctx);
        let name = input.snapshot_copy_grant_name.unwrap_or_default();
        let mut w = self.store.write().map_err(internal)?;
        let Some(rec) = load_grant(&*w, &scope, &name)? else {
            return Err(E::snapshot_copy_grant_not_found_fault(grant_not_found(&name)).into());
        };
        // Clusters of every region of the account may copy into this one with the grant.
        let mut account = Vec::new();
        keys::push_bytes(&mut account, scope.account.as_bytes());
        let clusters: Vec<ClusterRec> = catalog::scan(&*w, CLUSTERS_TABLE, &account)?;
        let in_use = clusters.iter().any(|c| {
            c.cluster
                .cluster_snapshot_copy_status
                .as_ref()
                .is_some_and(|s| {
                    s.destination_region.as_deref() == Some(scope.region.as_str())
                        && s.snapshot_copy_grant_name.as_deref() == Some(rec.name.as_str())
                })
        });
        if in_use {
            return Err(E::invalid_snapshot_copy_grant_state_fault(format!(
                "The snapshot copy grant {} can't be deleted because it is used by one or more clusters.",
                rec.name
            ))
            .into());
        }
        w.delete(COPY_GRANTS_TABLE, &scope.key(&rec.name))
            .map_err(internal)?;
        w.commit().map_err(internal)?;
        Ok(())
    }
}
