//! CreateTags / DeleteTags / DescribeTags on clusters, snapshots, snapshot schedules and
//! snapshot copy grants (§3.15).

use tidemark_core::RequestContext;
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};

use crate::RedshiftService;
use crate::catalog::{
    self, CLUSTERS_TABLE, ClusterRec, SCHEDULES_TABLE, SNAPSHOTS_TABLE, ScheduleRec, Scope,
    SnapRec, internal,
};
use crate::copy_grants::{COPY_GRANTS_TABLE, GrantRec};
use crate::rules;

/// A taggable resource named by an ARN in the caller's scope.
enum Resource {
    Cluster(String),
    Snapshot(String),
    Schedule(String),
    Grant(String),
}

enum TagErr {
    NotFound(String),
    Limit(String),
    Invalid(String),
    State(String),
    Common(CommonError),
}

impl From<CommonError> for TagErr {
    fn from(e: CommonError) -> Self {
        TagErr::Common(e)
    }
}

fn parse(scope: &Scope, arn: &str) -> Result<Resource, TagErr> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "redshift" {
        return Err(TagErr::Common(CommonError::InvalidParameterValue(format!(
            "Invalid ARN: {arn}"
        ))));
    }
    let missing = || TagErr::NotFound(format!("The specified resource {arn} was not found."));
    if parts[3] != scope.region || parts[4] != scope.account {
        return Err(missing());
    }
    let rest = parts[5];
    if let Some(id) = rest.strip_prefix("cluster:") {
        Ok(Resource::Cluster(id.to_ascii_lowercase()))
    } else if let Some(r) = rest.strip_prefix("snapshot:") {
        let (_, snap) = r.split_once('/').ok_or_else(missing)?;
        Ok(Resource::Snapshot(snap.to_ascii_lowercase()))
    } else if let Some(id) = rest.strip_prefix("snapshotschedule:") {
        Ok(Resource::Schedule(id.to_ascii_lowercase()))
    } else if let Some(name) = rest.strip_prefix("snapshotcopygrant:") {
        Ok(Resource::Grant(name.to_ascii_lowercase()))
    } else {
        Err(missing())
    }
}

impl RedshiftService {
    /// Loads the resource's tags, lets `change` edit them, and saves.
    fn edit_tags(
        &self,
        scope: &Scope,
        arn: &str,
        change: &dyn Fn(&mut Vec<Tag>) -> Result<(), TagErr>,
    ) -> Result<(), TagErr> {
        let resource = parse(scope, arn)?;
        let missing = || TagErr::NotFound(format!("The specified resource {arn} was not found."));
        let mut w = self.store.write().map_err(internal)?;
        match resource {
            Resource::Cluster(id) => {
                let mut rec: ClusterRec =
                    catalog::get(&*w, CLUSTERS_TABLE, &scope.key(&id))?.ok_or_else(missing)?;
                if rec.cluster.cluster_status.as_deref() == Some("deleting") {
                    return Err(TagErr::State(format!("Cluster {id} is being deleted.")));
                }
                let mut tags = rec.cluster.tags.take().unwrap_or_default();
                change(&mut tags)?;
                rec.cluster.tags = Some(tags);
                catalog::put(&mut *w, CLUSTERS_TABLE, &scope.key(&id), &rec)?;
            }
            Resource::Snapshot(id) => {
                let mut rec: SnapRec =
                    catalog::get(&*w, SNAPSHOTS_TABLE, &scope.key(&id))?.ok_or_else(missing)?;
                let mut tags = rec.snap.tags.take().unwrap_or_default();
                change(&mut tags)?;
                rec.snap.tags = Some(tags);
                catalog::put(&mut *w, SNAPSHOTS_TABLE, &scope.key(&id), &rec)?;
            }
            Resource::Schedule(id) => {
                let mut rec: ScheduleRec =
                    catalog::get(&*w, SCHEDULES_TABLE, &scope.key(&id))?.ok_or_else(missing)?;
                change(&mut rec.tags)?;
                catalog::put(&mut *w, SCHEDULES_TABLE, &scope.key(&id), &rec)?;
            }
            Resource::Grant(name) => {
                let mut rec: GrantRec =
                    catalog::get(&*w, COPY_GRANTS_TABLE, &scope.key(&name))?.ok_or_else(missing)?;
                change(&mut rec.tags)?;
                catalog::put(&mut *w, COPY_GRANTS_TABLE, &scope.key(&name), &rec)?;
            }
        }
        w.commit().map_err(internal)?;
        Ok(())
    }

    pub(crate) fn create_tags_impl(
        &self,
        ctx: &RequestContext,
        input: CreateTagsMessage,
    ) -> Result<(), OpError<CreateTagsError>> {
        type E = CreateTagsError;
        let new = input.tags.unwrap_or_default();
        let arn = input.resource_name.unwrap_or_default();
        let result = self.edit_tags(&Scope::of(ctx), &arn, &|tags| {
            rules::check_tags(
                (tags.len() + rules::added_tags(tags, &new)).saturating_sub(new.len()),
                &new,
            )
            .map_err(|(limit, m)| {
                if limit {
                    TagErr::Limit(m)
                } else {
                    TagErr::Invalid(m)
                }
            })?;
            rules::merge_tags(tags, &new);
            Ok(())
        });
        result.map_err(|e| match e {
            TagErr::NotFound(m) => E::resource_not_found_fault(m).into(),
            TagErr::Limit(m) => E::tag_limit_exceeded_fault(m).into(),
            TagErr::Invalid(m) => E::invalid_tag_fault(m).into(),
            TagErr::State(m) => E::invalid_cluster_state_fault(m).into(),
            TagErr::Common(c) => c.into(),
        })
    }

    pub(crate) fn delete_tags_impl(
        &self,
        ctx: &RequestContext,
        input: DeleteTagsMessage,
    ) -> Result<(), OpError<DeleteTagsError>> {
        type E = DeleteTagsError;
        let keys = input.tag_keys.unwrap_or_default();
        let arn = input.resource_name.unwrap_or_default();
        let result = self.edit_tags(&Scope::of(ctx), &arn, &|tags| {
            tags.retain(|t| !t.key.as_ref().is_some_and(|k| keys.contains(k)));
            Ok(())
        });
        result.map_err(|e| match e {
            TagErr::NotFound(m) => E::resource_not_found_fault(m).into(),
            TagErr::Limit(m) | TagErr::Invalid(m) | TagErr::State(m) => {
                E::invalid_tag_fault(m).into()
            }
            TagErr::Common(c) => c.into(),
        })
    }

    pub(crate) fn describe_tags_impl(
        &self,
        ctx: &RequestContext,
        input: DescribeTagsMessage,
    ) -> Result<TaggedResourceListMessage, OpError<DescribeTagsError>> {
        let scope = Scope::of(ctx);
        if input.resource_name.is_some() && input.resource_type.is_some() {
            return Err(CommonError::InvalidParameterCombination(
                "Specify either ResourceName or ResourceType, not both.".into(),
            )
            .into());
        }
        let limit = rules::page_size(input.max_records, 10, 50)?;
        let offset = match &input.marker {
            Some(m) => catalog::decode_marker(m)?
                .parse::<usize>()
                .map_err(|_| CommonError::InvalidParameterValue(format!("Invalid marker: {m}")))?,
            None => 0,
        };
        let wanted = match input
            .resource_type
            .as_deref()
            .map(|t| t.to_ascii_lowercase().replace(' ', ""))
        {
            None => None,
            Some(t)
                if matches!(
                    t.as_str(),
                    "cluster" | "snapshot" | "snapshotschedule" | "snapshotcopygrant"
                ) =>
            {
                Some(t)
            }
            Some(t)
                if [
                    "cidr/ip",
                    "ec2securitygroup",
                    "clustersecuritygroup",
                    "subnetgroup",
                    "hsmconnection",
                    "hsmcertificate",
                    "parametergroup",
                ]
                .contains(&t.as_str()) =>
            {
                Some(t)
            }
            Some(t) => {
                return Err(CommonError::InvalidParameterValue(format!(
                    "Invalid resource type {t}."
                ))
                .into());
            }
        };
        let txn = self.store.read().map_err(internal)?;
        let mut resources: Vec<(String, &str, Vec<Tag>)> = Vec::new();
        for c in catalog::scan::<ClusterRec>(&*txn, CLUSTERS_TABLE, &scope.prefix())? {
            let id = c.cluster.cluster_identifier.clone().unwrap_or_default();
            resources.push((
                scope.arn(&format!("cluster:{id}")),
                "cluster",
                c.cluster.tags.unwrap_or_default(),
            ));
        }
        for s in catalog::scan::<SnapRec>(&*txn, SNAPSHOTS_TABLE, &scope.prefix())? {
            resources.push((
                s.snap.snapshot_arn.clone().unwrap_or_default(),
                "snapshot",
                s.snap.tags.unwrap_or_default(),
            ));
        }
        for s in catalog::scan::<ScheduleRec>(&*txn, SCHEDULES_TABLE, &scope.prefix())? {
            resources.push((
                scope.arn(&format!("snapshotschedule:{}", s.id)),
                "snapshotschedule",
                s.tags,
            ));
        }
        for g in catalog::scan::<GrantRec>(&*txn, COPY_GRANTS_TABLE, &scope.prefix())? {
            resources.push((
                scope.arn(&format!("snapshotcopygrant:{}", g.name)),
                "snapshotcopygrant",
                g.tags,
            ));
        }
        if let Some(name) = &input.resource_name {
            let _ = parse(&scope, name).map_err(|e| match e {
                TagErr::Common(c) => OpError::Common(c),
                _ => DescribeTagsError::resource_not_found_fault(format!(
                    "The specified resource {name} was not found."
                ))
                .into(),
            })?;
            resources.retain(|(arn, _, _)| arn.eq_ignore_ascii_case(name));
            if resources.is_empty() {
                return Err(DescribeTagsError::resource_not_found_fault(format!(
                    "The specified resource {name} was not found."
                ))
                .into());
            }
        }
        let keys = input.tag_keys.unwrap_or_default();
        let values = input.tag_values.unwrap_or_default();
        let entries: Vec<TaggedResource> = resources
            .into_iter()
            .filter(|(_, kind, _)| wanted.as_deref().is_none_or(|w| w == *kind))
            .flat_map(|(arn, kind, tags)| {
                tags.into_iter().map(move |t| TaggedResource {
                    tag: Some(t),
                    resource_name: Some(arn.clone()),
                    resource_type: Some(kind.to_owned()),
                })
            })
            .filter(|e| {
                e.tag
                    .as_ref()
                    .is_some_and(|t| rules::tags_match(std::slice::from_ref(t), &keys, &values))
            })
            .collect();
        let total = entries.len();
        let page: Vec<TaggedResource> = entries.into_iter().skip(offset).take(limit).collect();
        let marker =
            (offset + limit < total).then(|| catalog::encode_marker(&(offset + limit).to_string()));
        Ok(TaggedResourceListMessage {
            tagged_resources: Some(page),
            marker,
        })
    }
}
