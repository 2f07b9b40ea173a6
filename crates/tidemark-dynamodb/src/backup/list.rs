//! ListBackups (reference §2.7): filters by table name (all incarnations), type (default
//! USER; ALL = USER + SYSTEM), creation time (lower bound inclusive, upper exclusive);
//! ascending creation time, ties by ARN; `ExclusiveStartBackupArn` is a pure cursor and
//! `LastEvaluatedBackupArn` appears only when more remain.

use tidemark_core::RequestContext;
use tidemark_model::dynamodb as m;

use super::arn;
use super::describe::summary;
use super::error::{BkError, BkResult};
use crate::service::DynamoDbService;

pub fn list_backups(
    s: &DynamoDbService,
    ctx: &RequestContext,
    input: m::ListBackupsInput,
) -> BkResult<m::ListBackupsOutput> {
    let table = input
        .table_name
        .as_deref()
        .map(|t| arn::table_name(ctx, t))
        .transpose()?;
    let lower = input.time_range_lower_bound.map(|t| t.as_millis());
    let upper = input.time_range_upper_bound.map(|t| t.as_millis());
    if let (Some(l), Some(u)) = (lower, upper)
        && l > u
    {
        return Err(BkError::validation(
            "Time range lower bound must be less than or equal to upper bound",
        ));
    }
    let types: &[&str] = match input.backup_type.as_deref() {
        None | Some("USER") => &["USER"],
        Some("SYSTEM") => &["SYSTEM"],
        Some("ALL") => &["USER", "SYSTEM"],
        // AWS_BACKUP: none are made locally. Other values failed enum validation already.
        Some(_) => &[],
    };
    let limit = input.limit.map_or(100, |l| l.clamp(1, 100) as usize);
    let mut all = super::all(&*s.store.read()?, ctx)?;
    all.retain(|b| {
        table.as_ref().is_none_or(|t| &b.table_name == t)
            && types.contains(&b.backup_type.as_str())
            && lower.is_none_or(|l| b.created_ms >= l)
            && upper.is_none_or(|u| b.created_ms < u)
    });
    all.sort_by(|a, b| (a.created_ms, &a.arn).cmp(&(b.created_ms, &b.arn)));
    let start = match &input.exclusive_start_backup_arn {
        // A cursor past every match (or one that no longer exists): resume after its
        // position in the order, located by its creation time and ARN.
        Some(cursor) => {
            let (_, id) = arn::parse_backup_arn(ctx, cursor)?;
            let ms: i64 = id
                .split('-')
                .next()
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| BkError::validation("Invalid Backup ARN"))?;
            all.iter()
                .position(|b| (b.created_ms, b.arn.as_str()) > (ms, cursor.as_str()))
                .unwrap_or(all.len())
        }
        None => 0,
    };
    let page: Vec<_> = all.iter().skip(start).take(limit).collect();
    let more = start + page.len() < all.len();
    Ok(m::ListBackupsOutput {
        last_evaluated_backup_arn: if more {
            page.last().map(|b| b.arn.clone())
        } else {
            None
        },
        backup_summaries: Some(page.into_iter().map(summary).collect::<BkResult<_>>()?),
    })
}
