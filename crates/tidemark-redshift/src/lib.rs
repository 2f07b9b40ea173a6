//! Redshift for tidemark: the [`RedshiftService`] behind the generated `RedshiftApi` trait —
//! clusters, manual and automated snapshots (real captures of each cluster's volume through
//! [`VolumeBackup`]), retention on the virtual clock, snapshot schedules, sharing, tags and
//! cross-region snapshot copy with its copy grants.

mod automation;
mod batch;
mod catalog;
mod cluster_rules;
mod clusters;
mod copy_grants;
mod credentials;
mod database;
mod dbhooks;
mod describe;
mod dir_volumes;
mod jobs;
mod modify;
mod node_options;
mod progress;
mod region_copy;
mod restore;
mod rules;
mod schedule_expr;
mod schedules;
mod sharing;
mod snapshot_copy;
mod snapshots;
mod store_volumes;
mod table_restore;
mod tags;
mod vault_volumes;
mod volume;

use std::sync::Arc;

use tidemark_core::{RequestContext, Timestamp};
use tidemark_jobs::Engine;
use tidemark_model::OpError;
use tidemark_model::redshift::*;
use tidemark_store::Store;

pub use catalog::{CLUSTERS_TABLE, GRANTS_TABLE, SCHEDULES_TABLE, SNAPSHOTS_TABLE, Scope};
pub use copy_grants::COPY_GRANTS_TABLE;
pub use database::{
    ClusterDatabase, DbCluster, DbEndpoint, DbStart, NoDatabase, TableSpec, TempLogin, md5_verifier,
};
pub use dir_volumes::DirVolumes;
pub use schedule_expr::{ScheduleError, check_definitions, next_invocation};
pub use store_volumes::StoreVolumes;
pub use table_restore::TABLE_RESTORES_TABLE;
pub use vault_volumes::{VAULT_MANIFESTS_TABLE, VaultVolumes};
pub use volume::{
    CaptureResult, FileInfo, FileSink, Progress, TEMP_PREFIX, VolumeBackup, VolumeFiles, check_name,
};

/// Every store table this crate writes (for a full reset of Redshift state).
pub const TABLES: &[&str] = &[
    catalog::CLUSTERS_TABLE,
    catalog::SNAPSHOTS_TABLE,
    catalog::GRANTS_TABLE,
    catalog::SCHEDULES_TABLE,
    catalog::SNAPSHOT_ORDER_TABLE,
    catalog::META_TABLE,
    copy_grants::COPY_GRANTS_TABLE,
    store_volumes::VOLUMES_TABLE,
    store_volumes::BLOBS_TABLE,
    store_volumes::MANIFESTS_TABLE,
    table_restore::TABLE_RESTORES_TABLE,
];

/// The Redshift service over the shared store and clock.
pub struct RedshiftService {
    store: Arc<dyn Store>,
    engine: Arc<Engine>,
    volumes: Arc<dyn VolumeBackup>,
    db: Arc<dyn ClusterDatabase>,
}

impl RedshiftService {
    /// Builds the service with the in-store volume backend and registers its job handlers
    /// with `engine` (call before `Engine::recover`).
    pub fn new(store: Arc<dyn Store>, engine: Arc<Engine>) -> Arc<Self> {
        let volumes: Arc<dyn VolumeBackup> = Arc::new(StoreVolumes::new(Arc::clone(&store)));
        Self::with_volumes(store, engine, volumes)
    }

    /// Like [`RedshiftService::new`] with another snapshot data backend (the vault).
    pub fn with_volumes(
        store: Arc<dyn Store>,
        engine: Arc<Engine>,
        volumes: Arc<dyn VolumeBackup>,
    ) -> Arc<Self> {
        Self::with_database(store, engine, volumes, Arc::new(NoDatabase))
    }

    /// Like [`RedshiftService::with_volumes`] with a database behind every cluster's
    /// Endpoint (call [`RedshiftService::start_databases`] after `Engine::recover`).
    pub fn with_database(
        store: Arc<dyn Store>,
        engine: Arc<Engine>,
        volumes: Arc<dyn VolumeBackup>,
        db: Arc<dyn ClusterDatabase>,
    ) -> Arc<Self> {
        let svc = Arc::new(Self {
            store,
            engine: Arc::clone(&engine),
            volumes,
            db,
        });
        jobs::register(&svc, &engine);
        svc
    }

    /// The snapshot data backend (tests write cluster volume files through it).
    pub fn volumes(&self) -> &Arc<dyn VolumeBackup> {
        &self.volumes
    }

    /// The status of cluster `id` in `scope` (`None` when there is no such cluster), for
    /// admin routes that inspect or fill its volume.
    pub fn cluster_status(&self, scope: &Scope, id: &str) -> Result<Option<String>, String> {
        Ok(self
            .load_cluster(scope, id)
            .map_err(|e| e.to_string())?
            .map(|c| c.cluster.cluster_status.unwrap_or_default()))
    }

    fn now(&self) -> Timestamp {
        self.engine.now()
    }
}

impl RedshiftApi for RedshiftService {
    fn restore_table_from_cluster_snapshot(
        &self,
        ctx: &RequestContext,
        input: RestoreTableFromClusterSnapshotMessage,
    ) -> Result<RestoreTableFromClusterSnapshotResult, OpError<RestoreTableFromClusterSnapshotError>>
    {
        self.restore_table_impl(ctx, input)
    }
    fn describe_table_restore_status(
        &self,
        ctx: &RequestContext,
        input: DescribeTableRestoreStatusMessage,
    ) -> Result<TableRestoreStatusMessage, OpError<DescribeTableRestoreStatusError>> {
        self.describe_table_restore_impl(ctx, input)
    }
    fn get_cluster_credentials(
        &self,
        ctx: &RequestContext,
        input: GetClusterCredentialsMessage,
    ) -> Result<ClusterCredentials, OpError<GetClusterCredentialsError>> {
        self.get_cluster_credentials_impl(ctx, input)
    }
    fn get_cluster_credentials_with_iam(
        &self,
        ctx: &RequestContext,
        input: GetClusterCredentialsWithIAMMessage,
    ) -> Result<ClusterExtendedCredentials, OpError<GetClusterCredentialsWithIAMError>> {
        self.get_cluster_credentials_with_iam_impl(ctx, input)
    }
    fn create_cluster(
        &self,
        ctx: &RequestContext,
        input: CreateClusterMessage,
    ) -> Result<CreateClusterResult, OpError<CreateClusterError>> {
        self.create_cluster_impl(ctx, input)
    }
    fn describe_clusters(
        &self,
        ctx: &RequestContext,
        input: DescribeClustersMessage,
    ) -> Result<ClustersMessage, OpError<DescribeClustersError>> {
        self.describe_clusters_impl(ctx, input)
    }
    fn modify_cluster(
        &self,
        ctx: &RequestContext,
        input: ModifyClusterMessage,
    ) -> Result<ModifyClusterResult, OpError<ModifyClusterError>> {
        self.modify_cluster_impl(ctx, input)
    }
    fn delete_cluster(
        &self,
        ctx: &RequestContext,
        input: DeleteClusterMessage,
    ) -> Result<DeleteClusterResult, OpError<DeleteClusterError>> {
        self.delete_cluster_impl(ctx, input)
    }
    fn pause_cluster(
        &self,
        ctx: &RequestContext,
        input: PauseClusterMessage,
    ) -> Result<PauseClusterResult, OpError<PauseClusterError>> {
        self.pause_cluster_impl(ctx, input)
    }
    fn resume_cluster(
        &self,
        ctx: &RequestContext,
        input: ResumeClusterMessage,
    ) -> Result<ResumeClusterResult, OpError<ResumeClusterError>> {
        self.resume_cluster_impl(ctx, input)
    }
    fn create_cluster_snapshot(
        &self,
        ctx: &RequestContext,
        input: CreateClusterSnapshotMessage,
    ) -> Result<CreateClusterSnapshotResult, OpError<CreateClusterSnapshotError>> {
        self.create_cluster_snapshot_impl(ctx, input)
    }
    fn copy_cluster_snapshot(
        &self,
        ctx: &RequestContext,
        input: CopyClusterSnapshotMessage,
    ) -> Result<CopyClusterSnapshotResult, OpError<CopyClusterSnapshotError>> {
        self.copy_cluster_snapshot_impl(ctx, input)
    }
    fn delete_cluster_snapshot(
        &self,
        ctx: &RequestContext,
        input: DeleteClusterSnapshotMessage,
    ) -> Result<DeleteClusterSnapshotResult, OpError<DeleteClusterSnapshotError>> {
        self.delete_cluster_snapshot_impl(ctx, input)
    }
    fn batch_delete_cluster_snapshots(
        &self,
        ctx: &RequestContext,
        input: BatchDeleteClusterSnapshotsRequest,
    ) -> Result<BatchDeleteClusterSnapshotsResult, OpError<BatchDeleteClusterSnapshotsError>> {
        self.batch_delete_impl(ctx, input)
    }
    fn modify_cluster_snapshot(
        &self,
        ctx: &RequestContext,
        input: ModifyClusterSnapshotMessage,
    ) -> Result<ModifyClusterSnapshotResult, OpError<ModifyClusterSnapshotError>> {
        self.modify_cluster_snapshot_impl(ctx, input)
    }
    fn batch_modify_cluster_snapshots(
        &self,
        ctx: &RequestContext,
        input: BatchModifyClusterSnapshotsMessage,
    ) -> Result<BatchModifyClusterSnapshotsOutputMessage, OpError<BatchModifyClusterSnapshotsError>>
    {
        self.batch_modify_impl(ctx, input)
    }
    fn describe_cluster_snapshots(
        &self,
        ctx: &RequestContext,
        input: DescribeClusterSnapshotsMessage,
    ) -> Result<SnapshotMessage, OpError<DescribeClusterSnapshotsError>> {
        self.describe_cluster_snapshots_impl(ctx, input)
    }
    fn describe_storage(
        &self,
        ctx: &RequestContext,
    ) -> Result<CustomerStorageMessage, OpError<DescribeStorageError>> {
        self.describe_storage_impl(ctx)
    }
    fn restore_from_cluster_snapshot(
        &self,
        ctx: &RequestContext,
        input: RestoreFromClusterSnapshotMessage,
    ) -> Result<RestoreFromClusterSnapshotResult, OpError<RestoreFromClusterSnapshotError>> {
        self.restore_impl(ctx, input)
    }
    fn authorize_snapshot_access(
        &self,
        ctx: &RequestContext,
        input: AuthorizeSnapshotAccessMessage,
    ) -> Result<AuthorizeSnapshotAccessResult, OpError<AuthorizeSnapshotAccessError>> {
        self.authorize_impl(ctx, input)
    }
    fn revoke_snapshot_access(
        &self,
        ctx: &RequestContext,
        input: RevokeSnapshotAccessMessage,
    ) -> Result<RevokeSnapshotAccessResult, OpError<RevokeSnapshotAccessError>> {
        self.revoke_impl(ctx, input)
    }
    fn create_tags(
        &self,
        ctx: &RequestContext,
        input: CreateTagsMessage,
    ) -> Result<(), OpError<CreateTagsError>> {
        self.create_tags_impl(ctx, input)
    }
    fn delete_tags(
        &self,
        ctx: &RequestContext,
        input: DeleteTagsMessage,
    ) -> Result<(), OpError<DeleteTagsError>> {
        self.delete_tags_impl(ctx, input)
    }
    fn describe_tags(
        &self,
        ctx: &RequestContext,
        input: DescribeTagsMessage,
    ) -> Result<TaggedResourceListMessage, OpError<DescribeTagsError>> {
        self.describe_tags_impl(ctx, input)
    }
    fn create_snapshot_schedule(
        &self,
        ctx: &RequestContext,
        input: CreateSnapshotScheduleMessage,
    ) -> Result<SnapshotSchedule, OpError<CreateSnapshotScheduleError>> {
        self.create_schedule_impl(ctx, input)
    }
    fn modify_snapshot_schedule(
        &self,
        ctx: &RequestContext,
        input: ModifySnapshotScheduleMessage,
    ) -> Result<SnapshotSchedule, OpError<ModifySnapshotScheduleError>> {
        self.modify_schedule_impl(ctx, input)
    }
    fn delete_snapshot_schedule(
        &self,
        ctx: &RequestContext,
        input: DeleteSnapshotScheduleMessage,
    ) -> Result<(), OpError<DeleteSnapshotScheduleError>> {
        self.delete_schedule_impl(ctx, input)
    }
    fn describe_snapshot_schedules(
        &self,
        ctx: &RequestContext,
        input: DescribeSnapshotSchedulesMessage,
    ) -> Result<DescribeSnapshotSchedulesOutputMessage, OpError<DescribeSnapshotSchedulesError>>
    {
        self.describe_schedules_impl(ctx, input)
    }
    fn modify_cluster_snapshot_schedule(
        &self,
        ctx: &RequestContext,
        input: ModifyClusterSnapshotScheduleMessage,
    ) -> Result<(), OpError<ModifyClusterSnapshotScheduleError>> {
        self.modify_cluster_schedule_impl(ctx, input)
    }
    fn enable_snapshot_copy(
        &self,
        ctx: &RequestContext,
        input: EnableSnapshotCopyMessage,
    ) -> Result<EnableSnapshotCopyResult, OpError<EnableSnapshotCopyError>> {
        self.enable_snapshot_copy_impl(ctx, input)
    }
    fn disable_snapshot_copy(
        &self,
        ctx: &RequestContext,
        input: DisableSnapshotCopyMessage,
    ) -> Result<DisableSnapshotCopyResult, OpError<DisableSnapshotCopyError>> {
        self.disable_snapshot_copy_impl(ctx, input)
    }
    fn modify_snapshot_copy_retention_period(
        &self,
        ctx: &RequestContext,
        input: ModifySnapshotCopyRetentionPeriodMessage,
    ) -> Result<
        ModifySnapshotCopyRetentionPeriodResult,
        OpError<ModifySnapshotCopyRetentionPeriodError>,
    > {
        self.modify_snapshot_copy_retention_impl(ctx, input)
    }
    fn create_snapshot_copy_grant(
        &self,
        ctx: &RequestContext,
        input: CreateSnapshotCopyGrantMessage,
    ) -> Result<CreateSnapshotCopyGrantResult, OpError<CreateSnapshotCopyGrantError>> {
        self.create_copy_grant_impl(ctx, input)
    }
    fn describe_snapshot_copy_grants(
        &self,
        ctx: &RequestContext,
        input: DescribeSnapshotCopyGrantsMessage,
    ) -> Result<SnapshotCopyGrantMessage, OpError<DescribeSnapshotCopyGrantsError>> {
        self.describe_copy_grants_impl(ctx, input)
    }
    fn delete_snapshot_copy_grant(
        &self,
        ctx: &RequestContext,
        input: DeleteSnapshotCopyGrantMessage,
    ) -> Result<(), OpError<DeleteSnapshotCopyGrantError>> {
        self.delete_copy_grant_impl(ctx, input)
    }
    fn describe_node_configuration_options(
        &self,
        ctx: &RequestContext,
        input: DescribeNodeConfigurationOptionsMessage,
    ) -> Result<NodeConfigurationOptionsMessage, OpError<DescribeNodeConfigurationOptionsError>>
    {
        self.describe_node_options_impl(ctx, input)
    }
    fn describe_cluster_db_revisions(
        &self,
        ctx: &RequestContext,
        input: DescribeClusterDbRevisionsMessage,
    ) -> Result<ClusterDbRevisionsMessage, OpError<DescribeClusterDbRevisionsError>> {
        self.describe_db_revisions_impl(ctx, input)
    }
}
