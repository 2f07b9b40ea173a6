//! DescribeStatement, GetStatementResult(V2), ListStatements, CancelStatement and
//! ListSessions: reads and small changes of the statements the account ran.

use tidemark_model::RequestContext;
use tidemark_model::redshift_data::*;

use crate::error::DataError;
use crate::results::{decode_token, encode_token};
use crate::state::{State, Status, Stmt, Sub};
use crate::{Inner, ts};

/// `uuid` or `uuid:n` (n counted from 1): the statement and, for a suffix, its part.
fn split_id(id: &str) -> Result<(&str, Option<usize>), DataError> {
    match id.split_once(':') {
        None => Ok((id, None)),
        Some((base, n)) => match n.parse::<usize>() {
            Ok(n) if n >= 1 => Ok((base, Some(n - 1))),
            _ => Err(DataError::statement_not_found(id)),
        },
    }
}

fn owned<'a>(st: &'a State, ctx: &RequestContext, id: &str) -> Result<&'a Stmt, DataError> {
    st.owned(ctx.account.as_str(), &ctx.region, id)
        .ok_or_else(|| DataError::statement_not_found(id))
}

/// The statement and the part a (possibly suffixed) id names; a single statement's part is
/// its only one.
fn part<'a>(
    st: &'a State,
    ctx: &RequestContext,
    id: &str,
) -> Result<(&'a Stmt, Option<&'a Sub>), DataError> {
    let (base, n) = split_id(id)?;
    let s = owned(st, ctx, base)?;
    match n {
        Some(n) if s.batch => match s.subs.get(n) {
            Some(sub) => Ok((s, Some(sub))),
            None => Err(DataError::statement_not_found(id)),
        },
        Some(_) => Err(DataError::statement_not_found(id)),
        None if s.batch => Ok((s, None)),
        None => Ok((s, s.subs.first())),
    }
}

pub fn describe(
    inner: &Inner,
    ctx: &RequestContext,
    i: DescribeStatementRequest,
) -> Result<DescribeStatementResponse, DataError> {
    let id = i.id.unwrap_or_default();
    let st = inner.lock()?;
    let (s, sub) = part(&st, ctx, &id)?;
    let mut out = DescribeStatementResponse {
        id: Some(id.clone()),
        secret_arn: s.secret_arn.clone(),
        db_user: s.secret_arn.is_none().then(|| s.target.user.clone()),
        database: Some(s.target.database.clone()),
        cluster_identifier: Some(s.target.cluster.clone()),
        created_at: ts(s.created),
        updated_at: ts(s.updated),
        redshift_pid: s.pid,
        query_parameters: s.params.clone(),
        result_format: Some(s.result_format.clone().unwrap_or_else(|| "JSON".into())),
        session_id: s.session_id.clone(),
        ..Default::default()
    };
    match sub {
        Some(sub) => {
            out.status = Some(if s.batch { sub.status } else { s.status }.as_str().into());
            out.duration = Some(if s.batch {
                sub.duration_ns
            } else {
                s.duration_ns
            });
            out.error = sub.error.clone().or_else(|| s.error.clone());
            out.has_result_set = Some(sub.result.is_some());
            out.query_string = Some(sub.query.clone());
            out.result_rows = Some(sub.result_rows);
            out.result_size = Some(sub.result_size);
            out.redshift_query_id = Some(sub.query_id);
        }
        None => {
            out.status = Some(s.status.as_str().into());
            out.duration = Some(s.duration_ns);
            out.error = s.error.clone();
            out.has_result_set = Some(s.subs.iter().any(|x| x.result.is_some()));
            out.result_rows = Some(
                s.subs
                    .iter()
                    .map(|x| x.result_rows.max(0))
                    .sum::<i64>()
                    .max(if s.subs.iter().all(|x| x.result_rows < 0) {
                        -1
                    } else {
                        0
                    }),
            );
            out.result_size = Some(s.subs.iter().map(|x| x.result_size).sum());
            out.redshift_query_id = Some(0);
            out.execution_mode = Some(
                if s.transaction {
                    "TRANSACTION"
                } else {
                    "AUTO_COMMIT"
                }
                .into(),
            );
            out.sub_statements = Some(
                s.subs
                    .iter()
                    .enumerate()
                    .map(|(n, x)| SubStatementData {
                        id: Some(format!("{}:{}", s.id, n + 1)),
                        duration: Some(x.duration_ns),
                        error: x.error.clone(),
                        status: Some(x.status.as_str().into()),
                        created_at: ts(x.created),
                        updated_at: ts(x.updated),
                        query_string: Some(x.query.clone()),
                        result_rows: Some(x.result_rows),
                        result_size: Some(x.result_size),
                        redshift_query_id: Some(x.query_id),
                        has_result_set: Some(x.result.is_some()),
                        ..Default::default()
                    })
                    .collect(),
            );
        }
    }
    Ok(out)
}

/// The result set a (possibly suffixed) id names, checking the statement finished and
/// returned rows in `format`.
fn result_set(
    st: &State,
    ctx: &RequestContext,
    id: &str,
    format: &str,
) -> Result<std::sync::Arc<crate::result_file::ResultFile>, DataError> {
    let (s, sub) = part(st, ctx, id)?;
    let Some(sub) = sub else {
        return Err(DataError::Validation(
            "Give the id of one statement of the batch (<id>:<n>) to get its result".into(),
        ));
    };
    if sub.status != Status::Finished {
        return Err(DataError::Validation(format!(
            "Query has not finished. Its status is {}.",
            sub.status.as_str()
        )));
    }
    let stored = s.result_format.as_deref().unwrap_or("JSON");
    if stored != format {
        return Err(DataError::Validation(format!(
            "The statement's result format is {stored}; use {}",
            if stored == "CSV" {
                "GetStatementResultV2"
            } else {
                "GetStatementResult"
            }
        )));
    }
    sub.result.clone().ok_or_else(|| DataError::NotFound {
        message: "Query does not have result. Please check query status with DescribeStatement."
            .into(),
        resource: id.to_owned(),
    })
}

pub fn result(
    inner: &Inner,
    ctx: &RequestContext,
    i: GetStatementResultRequest,
) -> Result<GetStatementResultResponse, DataError> {
    let id = i.id.unwrap_or_default();
    let rs = {
        let st = inner.lock()?;
        result_set(&st, ctx, &id, "JSON")?
    };
    let start = match &i.next_token {
        Some(t) => decode_token(&id, t)?,
        None => 0,
    };
    // Read outside the state lock: the `Arc` keeps the file until the read is done.
    let (records, next) = rs.page(start)?;
    Ok(GetStatementResultResponse {
        records: Some(records),
        column_metadata: Some(rs.metadata()),
        total_num_rows: Some(i64::try_from(rs.rows()).unwrap_or(i64::MAX)),
        next_token: next.map(|n| encode_token(&id, n)),
    })
}

pub fn result_v2(
    inner: &Inner,
    ctx: &RequestContext,
    i: GetStatementResultV2Request,
) -> Result<GetStatementResultV2Response, DataError> {
    let id = i.id.unwrap_or_default();
    let rs = {
        let st = inner.lock()?;
        result_set(&st, ctx, &id, "CSV")?
    };
    let start = match &i.next_token {
        Some(t) => decode_token(&id, t)?,
        None => 0,
    };
    let (csv, next) = rs.csv_page(start)?;
    Ok(GetStatementResultV2Response {
        records: Some(vec![QueryRecords {
            csv_records: Some(csv),
        }]),
        column_metadata: Some(rs.metadata()),
        total_num_rows: Some(i64::try_from(rs.rows()).unwrap_or(i64::MAX)),
        result_format: Some("CSV".into()),
        next_token: next.map(|n| encode_token(&id, n)),
    })
}

/// ListStatements' page size when MaxResults is absent or 0.
const LIST_DEFAULT: usize = 100;

pub fn list(
    inner: &Inner,
    ctx: &RequestContext,
    i: ListStatementsRequest,
) -> Result<ListStatementsResponse, DataError> {
    let (account, region) = (ctx.account.as_str().to_owned(), ctx.region.clone());
    let max = match i.max_results {
        Some(n) if n > 0 => usize::try_from(n).unwrap_or(LIST_DEFAULT),
        _ => LIST_DEFAULT,
    };
    // The token is the position (created nanoseconds, id) of the last statement listed.
    let after: Option<(i128, String)> = match &i.next_token {
        Some(t) => Some(
            t.split_once('/')
                .and_then(|(n, id)| Some((n.parse().ok()?, id.to_owned())))
                .ok_or_else(|| DataError::Validation("Invalid NextToken".into()))?,
        ),
        None => None,
    };
    let status = i.status.as_deref().filter(|s| *s != "ALL");
    let st = inner.lock()?;
    let lo = (account.clone(), region.clone(), i128::MIN, String::new());
    let hi = match &after {
        Some((t, id)) => (account.clone(), region.clone(), *t, id.clone()),
        None => (account.clone(), region.clone(), i128::MAX, String::new()),
    };
    let mut out = Vec::new();
    let mut next = None;
    let mut last: Option<(i128, String)> = None;
    for (_, _, t, id) in st.by_owner.range(lo..hi).rev() {
        let Some(s) = st.stmts.get(id) else {
            continue;
        };
        let wanted = status.is_none_or(|w| s.status.as_str() == w)
            && i.statement_name
                .as_deref()
                .is_none_or(|p| s.name.as_deref().is_some_and(|n| n.starts_with(p)))
            && i.cluster_identifier
                .as_deref()
                .is_none_or(|c| s.target.cluster == c)
            && i.database.as_deref().is_none_or(|d| s.target.database == d);
        if !wanted {
            continue;
        }
        if out.len() == max {
            next = Some(format!("{t}/{id}"));
            break;
        }
        out.push(statement_data(s));
        last = Some((*t, id.clone()));
    }
    // The token names the last statement returned, so the next page starts after it.
    if next.is_some() {
        next = last.map(|(t, id)| format!("{t}/{id}"));
    }
    Ok(ListStatementsResponse {
        statements: Some(out),
        next_token: next,
    })
}

fn statement_data(s: &Stmt) -> StatementData {
    StatementData {
        id: Some(s.id.clone()),
        query_string: (!s.batch)
            .then(|| s.subs.first().map(|x| x.query.clone()))
            .flatten(),
        query_strings: s
            .batch
            .then(|| s.subs.iter().map(|x| x.query.clone()).collect()),
        secret_arn: s.secret_arn.clone(),
        status: Some(s.status.as_str().into()),
        statement_name: s.name.clone(),
        created_at: ts(s.created),
        updated_at: ts(s.updated),
        query_parameters: s.params.clone(),
        is_batch_statement: Some(s.batch),
        result_format: Some(s.result_format.clone().unwrap_or_else(|| "JSON".into())),
        session_id: s.session_id.clone(),
    }
}

pub fn cancel(
    inner: &Inner,
    ctx: &RequestContext,
    i: CancelStatementRequest,
) -> Result<CancelStatementResponse, DataError> {
    let id = i.id.unwrap_or_default();
    let now = (inner.now)();
    let handle = {
        let mut st = inner.lock()?;
        let (base, _) = split_id(&id)?;
        let s = st
            .owned_mut(ctx.account.as_str(), &ctx.region, base)
            .ok_or_else(|| DataError::statement_not_found(&id))?;
        if s.status.is_done() {
            return Err(DataError::Validation(format!(
                "Could not cancel a query that is already in {} state.",
                s.status.as_str()
            )));
        }
        s.cancel_requested = true;
        match s.status {
            Status::Submitted => {
                s.status = Status::Aborted;
                s.updated = now;
                for sub in &mut s.subs {
                    sub.status = Status::Aborted;
                    sub.updated = now;
                }
                st.persist(base);
                None
            }
            _ => s.cancel.clone(),
        }
    };
    // PostgreSQL's cancel request opens a connection: not under the state lock.
    if let Some(h) = handle {
        h();
    }
    Ok(CancelStatementResponse { status: Some(true) })
}

pub fn list_sessions(
    inner: &Inner,
    ctx: &RequestContext,
    i: ListSessionsRequest,
) -> Result<ListSessionsResponse, DataError> {
    let st = inner.lock()?;
    let mut all: Vec<&crate::state::Session> = st
        .sessions
        .values()
        .filter(|s| s.account == ctx.account.as_str() && s.region == ctx.region)
        .filter(|s| i.session_id.as_deref().is_none_or(|id| s.id == id))
        .filter(|s| {
            i.cluster_identifier
                .as_deref()
                .is_none_or(|c| s.target.cluster == c)
        })
        .filter(|s| i.database.as_deref().is_none_or(|d| s.target.database == d))
        .filter(|s| i.status.as_deref().is_none_or(|w| session_status(s) == w))
        .collect();
    all.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
    let max = match i.max_results {
        Some(n) if n > 0 => usize::try_from(n).unwrap_or(LIST_DEFAULT),
        _ => LIST_DEFAULT,
    };
    let start = match &i.next_token {
        Some(t) => t
            .parse::<usize>()
            .map_err(|_| DataError::Validation("Invalid NextToken".into()))?,
        None => 0,
    };
    let page: Vec<SessionData> = all
        .iter()
        .skip(start)
        .take(max)
        .map(|s| SessionData {
            session_id: Some(s.id.clone()),
            status: Some(session_status(s).into()),
            created_at: ts(s.created),
            updated_at: ts(s.updated),
            database: Some(s.target.database.clone()),
            db_user: Some(s.target.user.clone()),
            cluster_identifier: Some(s.target.cluster.clone()),
            session_alive_seconds: i32::try_from(s.keep_alive).ok(),
            session_ttl: ts(s.ttl()),
            current_statement_id: s.current.clone(),
            ..Default::default()
        })
        .collect();
    let next = (start + page.len() < all.len()).then(|| (start + page.len()).to_string());
    Ok(ListSessionsResponse {
        sessions: Some(page),
        next_token: next,
    })
}

fn session_status(s: &crate::state::Session) -> &'static str {
    if s.current.is_some() {
        "BUSY"
    } else {
        "AVAILABLE"
    }
}
