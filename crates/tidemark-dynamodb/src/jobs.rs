//! Background work of the DynamoDB service, run by the job engine on the virtual clock:
//! settling table lifecycles (CREATING/UPDATING → ACTIVE, DELETING → gone, GSI backfill and
//! drop) and the TTL sweeper.
//!
//! What a user sees: a mutating table call answers the transitional status; the settle job is
//! due at once, so the engine's background runner finishes it within ~200 ms (or an explicit
//! clock advance runs it before returning). Until then the table stays in that status.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tidemark_core::{AccountId, RequestContext};
use tidemark_jobs::{Engine, Job, JobContext, JobHandler, Outcome};
use tidemark_store::Store;

use crate::catalog::{self, TABLES_TABLE};
use crate::error::{DdbError, DdbResult};
use crate::storage;
use crate::table::{self, Status};

pub const SETTLE_KIND: &str = "dynamodb.table.settle";

/// Which table incarnation a job is about.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableRef {
    pub account: String,
    pub region: String,
    pub name: String,
    pub table_id: String,
}

impl TableRef {
    pub fn new(ctx: &RequestContext, name: &str, table_id: &str) -> TableRef {
        TableRef {
            account: ctx.account.as_str().to_string(),
            region: ctx.region.clone(),
            name: name.to_string(),
            table_id: table_id.to_string(),
        }
    }

    pub fn ctx(&self) -> DdbResult<RequestContext> {
        let account = AccountId::parse(&self.account)
            .ok_or_else(|| DdbError::internal("bad account in job"))?;
        Ok(RequestContext::new(
            account,
            self.region.clone(),
            "tidemark-job",
        ))
    }
}

/// Submits the settle job for a table that just entered a transitional state.
pub fn submit_settle(engine: &Engine, r: &TableRef) -> DdbResult<()> {
    let payload = serde_json::to_value(r).map_err(DdbError::internal)?;
    engine
        .submit(SETTLE_KIND, payload, None)
        .map_err(DdbError::internal)?;
    Ok(())
}

/// Moves one table out of its transitional state, in one write transaction. Idempotent: a
/// job for a replaced incarnation (other `table_id`) or an already settled table does
/// nothing.
pub fn settle(store: &dyn Store, r: &TableRef) -> DdbResult<()> {
    let ctx = r.ctx()?;
    let key = catalog::key(&ctx, &r.name);
    let mut txn = store.write()?;
    let Some(mut t) = table::load_key(&*txn, &key)? else {
        return Ok(());
    };
    if t.table_id != r.table_id {
        return Ok(());
    }
    if t.status == Status::Deleting {
        storage::drop_table_data(&mut *txn, &t.table_id)?;
        txn.delete(TABLES_TABLE, &key)?;
        txn.commit()?;
        return Ok(());
    }
    let gsis = std::mem::take(&mut t.gsis);
    let mut kept = Vec::new();
    for mut g in gsis {
        match g.status {
            Status::Deleting => storage::drop_index(&mut *txn, &t, &g.name)?,
            Status::Creating => {
                storage::backfill_index(&mut *txn, &t, &g)?;
                g.status = Status::Active;
                kept.push(g);
            }
            _ => {
                g.status = Status::Active;
                kept.push(g);
            }
        }
    }
    t.gsis = kept;
    t.status = Status::Active;
    table::save_key(&mut *txn, &key, &t)?;
    txn.commit()?;
    Ok(())
}

struct Settle {
    store: Arc<dyn Store>,
}

impl JobHandler for Settle {
    fn run(&self, job: &Job, _ctx: &JobContext<'_>) -> Outcome {
        let r: TableRef = match serde_json::from_value(job.payload.clone()) {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(format!("bad payload: {e}")),
        };
        match settle(&*self.store, &r) {
            Ok(()) => Outcome::Done,
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}

/// Registers every DynamoDB job kind.
pub fn register(engine: &Engine, store: Arc<dyn Store>) {
    engine.register(
        SETTLE_KIND,
        Arc::new(Settle {
            store: store.clone(),
        }),
    );
    crate::ttl::register(engine, store);
}
