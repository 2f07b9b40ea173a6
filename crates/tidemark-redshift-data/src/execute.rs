//! ExecuteStatement and BatchExecuteStatement: check the request, record the statement as
//! SUBMITTED and queue it on its cluster; the SQL runs on a worker (`worker.rs`).

use std::sync::Arc;

use tidemark_model::RequestContext;
use tidemark_model::redshift_data::*;

use crate::backend::Target;
use crate::error::DataError;
use crate::params::bind;
use crate::state::{Session, Status, Stmt, Sub};
use crate::{Inner, auth, ts, worker};

/// AWS's limit on a statement's text ("Cannot process query string larger than 100kB").
pub const MAX_SQL_BYTES: usize = 100 * 1024;
/// Statements of one cluster that may be waiting or running at once.
pub const MAX_ACTIVE_PER_CLUSTER: usize = 500;
/// Sessions one account may hold open in a region.
pub const MAX_SESSIONS: usize = 500;

/// What both operations take, in one shape.
struct Request {
    sqls: Vec<String>,
    batch: bool,
    transaction: bool,
    cluster: Option<String>,
    workgroup: Option<String>,
    secret_arn: Option<String>,
    db_user: Option<String>,
    database: Option<String>,
    name: Option<String>,
    params: Option<Vec<SqlParameter>>,
    client_token: Option<String>,
    result_format: Option<String>,
    keep_alive: Option<i32>,
    session_id: Option<String>,
}

/// The answer both operations give.
struct Submitted {
    id: String,
    created: jiff::Timestamp,
    target: Target,
    secret_arn: Option<String>,
    session_id: Option<String>,
}

pub fn execute(
    inner: &Arc<Inner>,
    ctx: &RequestContext,
    i: ExecuteStatementInput,
) -> Result<ExecuteStatementOutput, DataError> {
    let s = submit(
        inner,
        ctx,
        Request {
            sqls: vec![i.sql.unwrap_or_default()],
            batch: false,
            transaction: false,
            cluster: i.cluster_identifier,
            workgroup: i.workgroup_name,
            secret_arn: i.secret_arn,
            db_user: i.db_user,
            database: i.database,
            name: i.statement_name,
            params: i.parameters,
            client_token: i.client_token,
            result_format: i.result_format,
            keep_alive: i.session_keep_alive_seconds,
            session_id: i.session_id,
        },
    )?;
    Ok(ExecuteStatementOutput {
        id: Some(s.id),
        created_at: ts(s.created),
        cluster_identifier: Some(s.target.cluster),
        db_user: s.secret_arn.is_none().then_some(s.target.user),
        database: Some(s.target.database),
        secret_arn: s.secret_arn,
        session_id: s.session_id,
        ..Default::default()
    })
}

pub fn batch(
    inner: &Arc<Inner>,
    ctx: &RequestContext,
    i: BatchExecuteStatementInput,
) -> Result<BatchExecuteStatementOutput, DataError> {
    let transaction = match i.execution_mode.as_deref() {
        None | Some("TRANSACTION") => true,
        Some(_) => false,
    };
    let s = submit(
        inner,
        ctx,
        Request {
            sqls: i.sqls.unwrap_or_default(),
            batch: true,
            transaction,
            cluster: i.cluster_identifier,
            workgroup: i.workgroup_name,
            secret_arn: i.secret_arn,
            db_user: i.db_user,
            database: i.database,
            name: i.statement_name,
            params: i.parameters,
            client_token: i.client_token,
            result_format: i.result_format,
            keep_alive: i.session_keep_alive_seconds,
            session_id: i.session_id,
        },
    )?;
    Ok(BatchExecuteStatementOutput {
        id: Some(s.id),
        created_at: ts(s.created),
        cluster_identifier: Some(s.target.cluster),
        db_user: s.secret_arn.is_none().then_some(s.target.user),
        database: Some(s.target.database),
        secret_arn: s.secret_arn,
        session_id: s.session_id,
        ..Default::default()
    })
}

fn invalid(m: impl Into<String>) -> DataError {
    DataError::Validation(m.into())
}

/// Who runs the statement and where, from the request (or from its session).
fn resolve_target(
    inner: &Inner,
    ctx: &RequestContext,
    r: &Request,
) -> Result<(Target, Option<String>), DataError> {
    if let Some(sid) = &r.session_id {
        if r.cluster.is_some()
            || r.workgroup.is_some()
            || r.database.is_some()
            || r.db_user.is_some()
            || r.secret_arn.is_some()
        {
            return Err(invalid(
                "ClusterIdentifier, Database, DbUser and SecretArn cannot be given with SessionId",
            ));
        }
        let st = inner.lock()?;
        let sess = st
            .sessions
            .get(sid)
            .filter(|s| s.account == ctx.account.as_str() && s.region == ctx.region)
            .ok_or_else(|| DataError::NotFound {
                message: format!("Session {sid} does not exist or has expired"),
                resource: sid.clone(),
            })?;
        return Ok((sess.target.clone(), None));
    }
    let given = auth::Given {
        cluster: r.cluster.as_deref(),
        workgroup: r.workgroup.as_deref(),
        db_user: r.db_user.as_deref(),
        secret_arn: r.secret_arn.as_deref(),
    };
    if given.cluster.is_some() && r.database.is_none() {
        return Err(invalid("Database must be specified"));
    }
    let target = auth::target(
        inner,
        ctx,
        &given,
        r.database.as_deref().unwrap_or_default(),
    )?;
    Ok((target, r.secret_arn.clone()))
}

fn submit(inner: &Arc<Inner>, ctx: &RequestContext, r: Request) -> Result<Submitted, DataError> {
    let account = ctx.account.as_str().to_owned();
    let region = ctx.region.clone();
    // A repeated client token answers with the statement it first made.
    if let Some(tok) = &r.client_token {
        let st = inner.lock()?;
        if let Some(s) = st
            .tokens
            .get(&(account.clone(), region.clone(), tok.clone()))
            .and_then(|id| st.stmts.get(id))
        {
            return Ok(Submitted {
                id: s.id.clone(),
                created: s.created,
                target: s.target.clone(),
                secret_arn: s.secret_arn.clone(),
                session_id: s.session_id.clone(),
            });
        }
    }
    if r.sqls.is_empty() {
        return Err(invalid("Sqls must hold between 1 and 40 statements"));
    }
    for sql in &r.sqls {
        if sql.len() > MAX_SQL_BYTES {
            return Err(invalid("Cannot process query string larger than 100kB"));
        }
        if sql.trim().is_empty() {
            return Err(invalid("SQL statement cannot be empty"));
        }
    }
    let (target, secret_arn) = resolve_target(inner, ctx, &r)?;
    let pairs: Vec<(String, String)> = r
        .params
        .iter()
        .flatten()
        .map(|p| {
            (
                p.name.clone().unwrap_or_default(),
                p.value.clone().unwrap_or_default(),
            )
        })
        .collect();
    let mut bound = Vec::with_capacity(r.sqls.len());
    for sql in &r.sqls {
        bound.push(bind(sql, &pairs).map_err(|e| invalid(e.to_string()))?);
    }
    let now = (inner.now)();
    let id = uuid::Uuid::new_v4().to_string();
    let key = (account.clone(), region.clone(), target.cluster.clone());
    let mut st = inner.lock()?;
    let active = st.queues.get(&key).map_or(0, |q| q.jobs.len() + q.workers);
    if active >= MAX_ACTIVE_PER_CLUSTER {
        return Err(DataError::ActiveStatements(format!(
            "Active statements exceeded the allowed quota ({MAX_ACTIVE_PER_CLUSTER})."
        )));
    }
    // The session this statement runs in: the one named, or a new one if asked to keep alive.
    let session_id = match (&r.session_id, r.keep_alive) {
        (Some(sid), keep) => {
            let sess = st
                .sessions
                .get_mut(sid)
                .ok_or_else(|| DataError::NotFound {
                    message: format!("Session {sid} does not exist or has expired"),
                    resource: sid.clone(),
                })?;
            if let Some(busy) = &sess.current {
                return Err(invalid(format!(
                    "Session {sid} is running statement {busy}; wait for it to finish"
                )));
            }
            sess.current = Some(id.clone());
            if let Some(k) = keep {
                sess.keep_alive = i64::from(k);
            }
            Some(sid.clone())
        }
        (None, Some(k)) if k > 0 => {
            let owned = st
                .sessions
                .values()
                .filter(|s| s.account == account && s.region == region)
                .count();
            if owned >= MAX_SESSIONS {
                return Err(DataError::ActiveSessions(format!(
                    "Active sessions exceeded the allowed quota ({MAX_SESSIONS})."
                )));
            }
            let sid = uuid::Uuid::new_v4().to_string();
            st.sessions.insert(
                sid.clone(),
                Session {
                    id: sid.clone(),
                    account: account.clone(),
                    region: region.clone(),
                    target: target.clone(),
                    keep_alive: i64::from(k),
                    created: now,
                    updated: now,
                    conn: None,
                    current: Some(id.clone()),
                },
            );
            Some(sid)
        }
        _ => None,
    };
    let subs = r
        .sqls
        .iter()
        .zip(bound)
        .map(|(q, b)| Sub {
            query: q.clone(),
            bound: b,
            status: Status::Submitted,
            error: None,
            created: now,
            updated: now,
            duration_ns: 0,
            result_rows: -1,
            result_size: 0,
            query_id: 0,
            result: None,
        })
        .collect();
    st.insert(Stmt {
        id: id.clone(),
        account,
        region,
        target: target.clone(),
        secret_arn: secret_arn.clone(),
        name: r.name,
        batch: r.batch,
        transaction: r.transaction,
        params: r.params,
        result_format: r.result_format,
        session_id: session_id.clone(),
        client_token: r.client_token,
        created: now,
        updated: now,
        status: Status::Submitted,
        error: None,
        pid: None,
        duration_ns: 0,
        subs,
        cancel: None,
        cancel_requested: false,
    });
    st.persist(&id);
    drop(st);
    worker::submit(inner, key, id.clone());
    Ok(Submitted {
        id,
        created: now,
        target,
        secret_arn,
        session_id,
    })
}
