//! Snapshot schedules (§3.16): `rate(N hours)` (1–24) and a cron subset
//! (`cron(Minutes Hours Day-of-month Month Day-of-week Year)`, or the short
//! `cron(Minutes Hours Day-of-month)`), their next invocations, and the schedule operations.
//! An attached schedule replaces the default 8-hour cadence of the automated snapshot engine.

use tidemark_core::RequestContext;
use tidemark_model::redshift::*;
use tidemark_model::{CommonError, OpError};

use crate::RedshiftService;
use crate::catalog::{
    self, CLUSTERS_TABLE, ClusterRec, SCHEDULES_TABLE, ScheduleRec, Scope, internal,
};
use crate::rules;
use crate::schedule_expr::{ScheduleError, check_definitions, next_invocation};

impl RedshiftService {
    fn render_schedule(
        &self,
        scope: &Scope,
        rec: &ScheduleRec,
        count: usize,
    ) -> Result<SnapshotSchedule, CommonError> {
        let txn = self.store.read().map_err(internal)?;
        let clusters: Vec<ClusterRec> = catalog::scan(&*txn, CLUSTERS_TABLE, &scope.prefix())?;
        let associated: Vec<ClusterAssociatedToSchedule> = clusters
            .iter()
            .filter(|c| c.cluster.snapshot_schedule_identifier.as_deref() == Some(rec.id.as_str()))
            .map(|c| ClusterAssociatedToSchedule {
                cluster_identifier: c.cluster.cluster_identifier.clone(),
                schedule_association_state: Some("ACTIVE".into()),
            })
            .collect();
        let mut next = Vec::new();
        let mut t = self.now();
        while next.len() < count {
            match next_invocation(&rec.definitions, t) {
                Some(n) => {
                    next.push(tidemark_model::Timestamp(n));
                    t = n;
                }
                None => break,
            }
        }
        Ok(SnapshotSchedule {
            schedule_definitions: Some(rec.definitions.clone()),
            schedule_identifier: Some(rec.id.clone()),
            schedule_description: rec.description.clone(),
            tags: Some(rec.tags.clone()),
            next_invocations: Some(next),
            associated_cluster_count: Some(associated.len() as i32),
            associated_clusters: Some(associated),
        })
    }

    /// Restarts the automated cadence of every cluster attached to schedule `id`.
    fn reschedule_clusters(
        &self,
        scope: &Scope,
        id: Option<&str>,
        cluster: Option<&str>,
    ) -> Result<(), CommonError> {
        let txn = self.store.read().map_err(internal)?;
        let clusters: Vec<ClusterRec> = catalog::scan(&*txn, CLUSTERS_TABLE, &scope.prefix())?;
        drop(txn);
        let now = self.now();
        for c in clusters {
            let cid = c.cluster.cluster_identifier.clone().unwrap_or_default();
            let attached =
                id.is_some_and(|i| c.cluster.snapshot_schedule_identifier.as_deref() == Some(i));
            if (attached || cluster == Some(cid.as_str()))
                && c.cluster.cluster_status.as_deref() != Some("creating")
            {
                let first = self.next_tick(scope, &c, now)?;
                self.start_automation(scope, &cid, first)?;
            }
        }
        Ok(())
    }

    pub(crate) fn create_schedule_impl(
        &self,
        ctx: &RequestContext,
        input: CreateSnapshotScheduleMessage,
    ) -> Result<SnapshotSchedule, OpError<CreateSnapshotScheduleError>> {
        type E = CreateSnapshotScheduleError;
        let scope = Scope::of(ctx);
        let defs = input.schedule_definitions.unwrap_or_default();
        match check_definitions(&defs) {
            Ok(()) => {}
            Err(ScheduleError::Invalid(m)) => return Err(E::invalid_schedule_fault(m).into()),
            Err(ScheduleError::Unsupported(m)) => {
                return Err(E::schedule_definition_type_unsupported_fault(m).into());
            }
        }
        let now = self.now();
        let id = match &input.schedule_identifier {
            Some(id) => rules::snapshot_identifier("ScheduleIdentifier", id)?,
            None => format!(
                "schedule-{}",
                rules::alnum(
                    rules::digest(&[&scope.account, &now.to_string(), &defs.join(",")]),
                    10
                )
            ),
        };
        let tags = input.tags.unwrap_or_default();
        if let Err((limit, m)) = rules::check_tags(0, &tags) {
            return Err(if limit {
                E::tag_limit_exceeded_fault(m)
            } else {
                E::invalid_tag_fault(m)
            }
            .into());
        }
        let rec = ScheduleRec {
            id: id.clone(),
            definitions: defs,
            description: input.schedule_description,
            tags,
        };
        let count = input
            .next_invocations
            .map_or(10, |n| n.clamp(1, 100) as usize);
        if input.dry_run != Some(true) {
            let mut w = self.store.write().map_err(internal)?;
            if w.get(SCHEDULES_TABLE, &scope.key(&id))
                .map_err(internal)?
                .is_some()
            {
                return Err(E::snapshot_schedule_already_exists_fault(format!(
                    "Snapshot schedule {id} already exists."
                ))
                .into());
            }
            catalog::put(&mut *w, SCHEDULES_TABLE, &scope.key(&id), &rec)?;
            w.commit().map_err(internal)?;
        }
        Ok(self.render_schedule(&scope, &rec, count)?)
    }

    pub(crate) fn modify_schedule_impl(
        &self,
        ctx: &RequestContext,
        input: ModifySnapshotScheduleMessage,
    ) -> Result<SnapshotSchedule, OpError<ModifySnapshotScheduleError>> {
        type E = ModifySnapshotScheduleError;
        let scope = Scope::of(ctx);
        let id = input
            .schedule_identifier
            .unwrap_or_default()
            .to_ascii_lowercase();
        let defs = input.schedule_definitions.unwrap_or_default();
        if let Err(ScheduleError::Invalid(m) | ScheduleError::Unsupported(m)) =
            check_definitions(&defs)
        {
            return Err(E::invalid_schedule_fault(m).into());
        }
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<ScheduleRec>(&*w, SCHEDULES_TABLE, &scope.key(&id))?
        else {
            return Err(E::snapshot_schedule_not_found_fault(format!(
                "Snapshot schedule {id} not found."
            ))
            .into());
        };
        rec.definitions = defs;
        catalog::put(&mut *w, SCHEDULES_TABLE, &scope.key(&id), &rec)?;
        w.commit().map_err(internal)?;
        self.reschedule_clusters(&scope, Some(&id), None)?;
        Ok(self.render_schedule(&scope, &rec, 10)?)
    }

    pub(crate) fn delete_schedule_impl(
        &self,
        ctx: &RequestContext,
        input: DeleteSnapshotScheduleMessage,
    ) -> Result<(), OpError<DeleteSnapshotScheduleError>> {
        type E = DeleteSnapshotScheduleError;
        let scope = Scope::of(ctx);
        let id = input
            .schedule_identifier
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut w = self.store.write().map_err(internal)?;
        if w.get(SCHEDULES_TABLE, &scope.key(&id))
            .map_err(internal)?
            .is_none()
        {
            return Err(E::snapshot_schedule_not_found_fault(format!(
                "Snapshot schedule {id} not found."
            ))
            .into());
        }
        let clusters: Vec<ClusterRec> = catalog::scan(&*w, CLUSTERS_TABLE, &scope.prefix())?;
        if clusters
            .iter()
            .any(|c| c.cluster.snapshot_schedule_identifier.as_deref() == Some(id.as_str()))
        {
            return Err(E::invalid_cluster_snapshot_schedule_state_fault(format!(
                "Snapshot schedule {id} is associated with clusters; disassociate them first."
            ))
            .into());
        }
        w.delete(SCHEDULES_TABLE, &scope.key(&id))
            .map_err(internal)?;
        w.commit().map_err(internal)?;
        Ok(())
    }

    pub(crate) fn describe_schedules_impl(
        &self,
        ctx: &RequestContext,
        input: DescribeSnapshotSchedulesMessage,
    ) -> Result<DescribeSnapshotSchedulesOutputMessage, OpError<DescribeSnapshotSchedulesError>>
    {
        let scope = Scope::of(ctx);
        let limit = rules::page_size(input.max_records, 20, 100)?;
        let offset = match &input.marker {
            Some(m) => catalog::decode_marker(m)?
                .parse::<usize>()
                .map_err(|_| CommonError::InvalidParameterValue(format!("Invalid marker: {m}")))?,
            None => 0,
        };
        let txn = self.store.read().map_err(internal)?;
        let all: Vec<ScheduleRec> = catalog::scan(&*txn, SCHEDULES_TABLE, &scope.prefix())?;
        let attached = match &input.cluster_identifier {
            Some(c) => Some(
                catalog::get::<ClusterRec>(
                    &*txn,
                    CLUSTERS_TABLE,
                    &scope.key(&c.to_ascii_lowercase()),
                )?
                .and_then(|c| c.cluster.snapshot_schedule_identifier),
            ),
            None => None,
        };
        drop(txn);
        let keys = input.tag_keys.unwrap_or_default();
        let values = input.tag_values.unwrap_or_default();
        let kept: Vec<ScheduleRec> = all
            .into_iter()
            .filter(|s| {
                input
                    .schedule_identifier
                    .as_ref()
                    .is_none_or(|i| i.eq_ignore_ascii_case(&s.id))
            })
            .filter(|s| {
                attached
                    .as_ref()
                    .is_none_or(|a| a.as_deref() == Some(s.id.as_str()))
            })
            .filter(|s| rules::tags_match(&s.tags, &keys, &values))
            .collect();
        let total = kept.len();
        let page = kept
            .iter()
            .skip(offset)
            .take(limit)
            .map(|s| self.render_schedule(&scope, s, 10))
            .collect::<Result<Vec<_>, _>>()?;
        let marker =
            (offset + limit < total).then(|| catalog::encode_marker(&(offset + limit).to_string()));
        Ok(DescribeSnapshotSchedulesOutputMessage {
            snapshot_schedules: Some(page),
            marker,
        })
    }

    pub(crate) fn modify_cluster_schedule_impl(
        &self,
        ctx: &RequestContext,
        input: ModifyClusterSnapshotScheduleMessage,
    ) -> Result<(), OpError<ModifyClusterSnapshotScheduleError>> {
        type E = ModifyClusterSnapshotScheduleError;
        let scope = Scope::of(ctx);
        let cid = input
            .cluster_identifier
            .unwrap_or_default()
            .to_ascii_lowercase();
        let detach = input.disassociate_schedule.unwrap_or(false);
        let sid = input.schedule_identifier.map(|s| s.to_ascii_lowercase());
        if detach == sid.is_some() {
            return Err(CommonError::InvalidParameterCombination(
                "Specify exactly one of ScheduleIdentifier and DisassociateSchedule=true.".into(),
            )
            .into());
        }
        let mut w = self.store.write().map_err(internal)?;
        let Some(mut rec) = catalog::get::<ClusterRec>(&*w, CLUSTERS_TABLE, &scope.key(&cid))?
        else {
            return Err(E::cluster_not_found_fault(rules::cluster_not_found(&cid)).into());
        };
        if let Some(s) = &sid
            && w.get(SCHEDULES_TABLE, &scope.key(s))
                .map_err(internal)?
                .is_none()
        {
            return Err(E::snapshot_schedule_not_found_fault(format!(
                "Snapshot schedule {s} not found."
            ))
            .into());
        }
        if detach && rec.cluster.snapshot_schedule_identifier.is_none() {
            return Err(E::invalid_cluster_snapshot_schedule_state_fault(format!(
                "Cluster {cid} has no snapshot schedule."
            ))
            .into());
        }
        rec.cluster.snapshot_schedule_state = sid.as_ref().map(|_| "ACTIVE".to_owned());
        rec.cluster.snapshot_schedule_identifier = sid;
        catalog::put(&mut *w, CLUSTERS_TABLE, &scope.key(&cid), &rec)?;
        w.commit().map_err(internal)?;
        self.reschedule_clusters(&scope, None, Some(&cid))?;
        Ok(())
    }
}
