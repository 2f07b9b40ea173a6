//! The [`DynamoDbService`] behind the generated `DynamoDbApi` trait: each method delegates to
//! its handler in the file of its resource (tables.rs, items.rs, query.rs, batch.rs,
//! transact.rs, settings.rs). Operations not listed here answer the trait's default
//! "not implemented" error.

use std::sync::{Arc, Mutex};

use tidemark_core::RequestContext;
use tidemark_jobs::Engine;
use tidemark_model::OpError;
use tidemark_model::dynamodb::*;
use tidemark_store::Store;

use crate::catalog::{self, TABLES_TABLE};
use crate::error::DdbError;
use crate::{batch, items, jobs, query, settings, table_update, tables, transact};

/// DynamoDB over the shared store and clock.
pub struct DynamoDbService {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) engine: Arc<Engine>,
    /// Backup/PITR state (vault, parked snapshots): `backup/mod.rs`.
    pub(crate) backups: Arc<crate::backup::Backups>,
    endpoint: Mutex<String>,
}

impl DynamoDbService {
    /// Builds the service and registers its job handlers with `engine` (call before
    /// `Engine::recover`). Backups go to an in-memory vault opened on first use.
    pub fn new(store: Arc<dyn Store>, engine: Arc<Engine>) -> Arc<Self> {
        Self::with_backups(store, engine, crate::backup::Backups::in_memory())
    }

    /// Like [`DynamoDbService::new`], storing backups in `vault`.
    pub fn with_vault(
        store: Arc<dyn Store>,
        engine: Arc<Engine>,
        vault: Arc<tidemark_vault::Vault>,
    ) -> Arc<Self> {
        Self::with_backups(store, engine, crate::backup::Backups::new(vault))
    }

    fn with_backups(
        store: Arc<dyn Store>,
        engine: Arc<Engine>,
        backups: Arc<crate::backup::Backups>,
    ) -> Arc<Self> {
        jobs::register(&engine, store.clone());
        crate::backup::register(&engine, store.clone(), backups.clone());
        Arc::new(Self {
            store,
            engine,
            backups,
            endpoint: Mutex::new("localhost:8000".to_string()),
        })
    }

    /// The `host:port` DescribeEndpoints advertises (the address the server listens on).
    pub fn set_endpoint_address(&self, address: impl Into<String>) {
        if let Ok(mut e) = self.endpoint.lock() {
            *e = address.into();
        }
    }

    pub(crate) fn endpoint_address(&self) -> String {
        self.endpoint.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

type R<T, E> = Result<T, OpError<E>>;

impl DynamoDbApi for DynamoDbService {
    /// Names of the caller's tables in its region, in name order; `LastEvaluatedTableName`
    /// only when more remain (reference §1.5).
    fn list_tables(
        &self,
        ctx: &RequestContext,
        input: ListTablesInput,
    ) -> R<ListTablesOutput, ListTablesError> {
        let limit = input.limit.map_or(100, |l| l.clamp(1, 100) as usize);
        let txn = self.store.read().map_err(DdbError::from)?;
        let mut names = Vec::new();
        let mut last = None;
        for entry in txn
            .scan_prefix(TABLES_TABLE, &catalog::scope(ctx))
            .map_err(DdbError::from)?
        {
            let (key, _) = entry.map_err(DdbError::from)?;
            let name = catalog::name_from_key(ctx, &key).map_err(DdbError::internal)?;
            if input
                .exclusive_start_table_name
                .as_ref()
                .is_some_and(|s| &name <= s)
            {
                continue;
            }
            if names.len() == limit {
                last = names.last().cloned();
                break;
            }
            names.push(name);
        }
        Ok(ListTablesOutput {
            table_names: Some(names),
            last_evaluated_table_name: last,
        })
    }

    fn create_table(
        &self,
        ctx: &RequestContext,
        input: CreateTableInput,
    ) -> R<CreateTableOutput, CreateTableError> {
        Ok(tables::create_table(self, ctx, input)?)
    }

    fn describe_table(
        &self,
        ctx: &RequestContext,
        input: DescribeTableInput,
    ) -> R<DescribeTableOutput, DescribeTableError> {
        Ok(tables::describe_table(self, ctx, input)?)
    }

    fn update_table(
        &self,
        ctx: &RequestContext,
        input: UpdateTableInput,
    ) -> R<UpdateTableOutput, UpdateTableError> {
        Ok(table_update::update_table(self, ctx, input)?)
    }

    fn delete_table(
        &self,
        ctx: &RequestContext,
        input: DeleteTableInput,
    ) -> R<DeleteTableOutput, DeleteTableError> {
        Ok(tables::delete_table(self, ctx, input)?)
    }

    fn put_item(
        &self,
        ctx: &RequestContext,
        input: PutItemInput,
    ) -> R<PutItemOutput, PutItemError> {
        Ok(items::put_item(self, ctx, input)?)
    }

    fn get_item(
        &self,
        ctx: &RequestContext,
        input: GetItemInput,
    ) -> R<GetItemOutput, GetItemError> {
        Ok(items::get_item(self, ctx, input)?)
    }

    fn update_item(
        &self,
        ctx: &RequestContext,
        input: UpdateItemInput,
    ) -> R<UpdateItemOutput, UpdateItemError> {
        Ok(items::update_item(self, ctx, input)?)
    }

    fn delete_item(
        &self,
        ctx: &RequestContext,
        input: DeleteItemInput,
    ) -> R<DeleteItemOutput, DeleteItemError> {
        Ok(items::delete_item(self, ctx, input)?)
    }

    fn query(&self, ctx: &RequestContext, input: QueryInput) -> R<QueryOutput, QueryError> {
        Ok(query::query(self, ctx, input)?)
    }

    fn scan(&self, ctx: &RequestContext, input: ScanInput) -> R<ScanOutput, ScanError> {
        Ok(query::scan(self, ctx, input)?)
    }

    /// Pages whose items need no reshaping go out as the stored item JSON (`query::reply`).
    fn scan_reply(
        &self,
        ctx: &RequestContext,
        input: ScanInput,
    ) -> R<tidemark_model::Reply<ScanOutput>, ScanError> {
        Ok(query::scan_reply(self, ctx, input, true)?)
    }

    fn query_reply(
        &self,
        ctx: &RequestContext,
        input: QueryInput,
    ) -> R<tidemark_model::Reply<QueryOutput>, QueryError> {
        Ok(query::query_reply(self, ctx, input, true)?)
    }

    fn batch_get_item(
        &self,
        ctx: &RequestContext,
        input: BatchGetItemInput,
    ) -> R<BatchGetItemOutput, BatchGetItemError> {
        Ok(batch::batch_get_item(self, ctx, input)?)
    }

    fn batch_write_item(
        &self,
        ctx: &RequestContext,
        input: BatchWriteItemInput,
    ) -> R<BatchWriteItemOutput, BatchWriteItemError> {
        Ok(batch::batch_write_item(self, ctx, input)?)
    }

    fn transact_write_items(
        &self,
        ctx: &RequestContext,
        input: TransactWriteItemsInput,
    ) -> R<TransactWriteItemsOutput, TransactWriteItemsError> {
        transact::transact_write_items(self, ctx, input)
    }

    fn transact_get_items(
        &self,
        ctx: &RequestContext,
        input: TransactGetItemsInput,
    ) -> R<TransactGetItemsOutput, TransactGetItemsError> {
        Ok(transact::transact_get_items(self, ctx, input)?)
    }

    fn tag_resource(
        &self,
        ctx: &RequestContext,
        input: TagResourceInput,
    ) -> R<(), TagResourceError> {
        Ok(settings::tag_resource(self, ctx, input)?)
    }

    fn untag_resource(
        &self,
        ctx: &RequestContext,
        input: UntagResourceInput,
    ) -> R<(), UntagResourceError> {
        Ok(settings::untag_resource(self, ctx, input)?)
    }

    fn list_tags_of_resource(
        &self,
        ctx: &RequestContext,
        input: ListTagsOfResourceInput,
    ) -> R<ListTagsOfResourceOutput, ListTagsOfResourceError> {
        Ok(settings::list_tags_of_resource(self, ctx, input)?)
    }

    fn update_time_to_live(
        &self,
        ctx: &RequestContext,
        input: UpdateTimeToLiveInput,
    ) -> R<UpdateTimeToLiveOutput, UpdateTimeToLiveError> {
        Ok(settings::update_time_to_live(self, ctx, input)?)
    }

    fn describe_time_to_live(
        &self,
        ctx: &RequestContext,
        input: DescribeTimeToLiveInput,
    ) -> R<DescribeTimeToLiveOutput, DescribeTimeToLiveError> {
        Ok(settings::describe_time_to_live(self, ctx, input)?)
    }

    fn describe_endpoints(
        &self,
        ctx: &RequestContext,
        input: DescribeEndpointsRequest,
    ) -> R<DescribeEndpointsResponse, DescribeEndpointsError> {
        let _ = (ctx, input);
        Ok(settings::describe_endpoints(self))
    }

    fn describe_limits(
        &self,
        ctx: &RequestContext,
        input: DescribeLimitsInput,
    ) -> R<DescribeLimitsOutput, DescribeLimitsError> {
        let _ = (ctx, input);
        Ok(settings::describe_limits())
    }

    // Backups and point-in-time recovery: backup/.

    fn create_backup(
        &self,
        ctx: &RequestContext,
        input: CreateBackupInput,
    ) -> R<CreateBackupOutput, CreateBackupError> {
        Ok(crate::backup::create_backup(self, ctx, input)?)
    }

    fn describe_backup(
        &self,
        ctx: &RequestContext,
        input: DescribeBackupInput,
    ) -> R<DescribeBackupOutput, DescribeBackupError> {
        Ok(crate::backup::describe_backup(self, ctx, input)?)
    }

    fn list_backups(
        &self,
        ctx: &RequestContext,
        input: ListBackupsInput,
    ) -> R<ListBackupsOutput, ListBackupsError> {
        Ok(crate::backup::list_backups(self, ctx, input)?)
    }

    fn delete_backup(
        &self,
        ctx: &RequestContext,
        input: DeleteBackupInput,
    ) -> R<DeleteBackupOutput, DeleteBackupError> {
        Ok(crate::backup::delete_backup(self, ctx, input)?)
    }

    fn restore_table_from_backup(
        &self,
        ctx: &RequestContext,
        input: RestoreTableFromBackupInput,
    ) -> R<RestoreTableFromBackupOutput, RestoreTableFromBackupError> {
        Ok(crate::backup::restore_table_from_backup(self, ctx, input)?)
    }

    fn describe_continuous_backups(
        &self,
        ctx: &RequestContext,
        input: DescribeContinuousBackupsInput,
    ) -> R<DescribeContinuousBackupsOutput, DescribeContinuousBackupsError> {
        Ok(crate::backup::describe_continuous_backups(
            self, ctx, input,
        )?)
    }

    fn update_continuous_backups(
        &self,
        ctx: &RequestContext,
        input: UpdateContinuousBackupsInput,
    ) -> R<UpdateContinuousBackupsOutput, UpdateContinuousBackupsError> {
        Ok(crate::backup::update_continuous_backups(self, ctx, input)?)
    }

    fn restore_table_to_point_in_time(
        &self,
        ctx: &RequestContext,
        input: RestoreTableToPointInTimeInput,
    ) -> R<RestoreTableToPointInTimeOutput, RestoreTableToPointInTimeError> {
        Ok(crate::backup::restore_table_to_point_in_time(
            self, ctx, input,
        )?)
    }
}
