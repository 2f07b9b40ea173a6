//! Backup ARNs (reference §1.4, §2.4–2.6): `<table ARN>/backup/<14-digit epoch ms>-<8 hex>`,
//! and resolving the `TableName`-or-ARN members of the backup family.

use tidemark_core::{AccountId, RequestContext};

use super::error::{BkError, BkResult};
use crate::error::DdbError;

/// A new backup id for a backup created at `ms`: the zero-padded creation millisecond and 8
/// random hex digits (SYSTEM backups use `00000000`, reference §2.12).
pub fn new_backup_id(ms: i64, system: bool) -> String {
    let suffix = if system {
        "00000000".to_string()
    } else {
        // A v4 UUID starts with 8 random hex digits.
        tidemark_core::ids::uuid_request_id()[..8].to_string()
    };
    format!("{ms:014}-{suffix}")
}

pub fn backup_arn(ctx: &RequestContext, table: &str, backup_id: &str) -> String {
    ctx.arn("dynamodb", &format!("table/{table}/backup/{backup_id}"))
}

/// The `(table name, backup id)` a backup ARN names. Region is ignored for lookup (the
/// observed quirk, §2.5); the account must be the caller's. Malformed ARNs and table ARNs
/// answer `Invalid Backup ARN`, an unknown partition or service, no region or an account
/// that is not 12 digits `BackupArn is not valid`; only then is a well-formed ARN of
/// another account AccessDeniedException (observed, §2.5, §2.6, §2.10), before any lookup.
pub fn parse_backup_arn(ctx: &RequestContext, arn: &str) -> BkResult<(String, String)> {
    let invalid = || BkError::validation("Invalid Backup ARN");
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [a, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(invalid());
    };
    if *a != "arn" {
        return Err(invalid());
    }
    if !partition.starts_with("aws")
        || *service != "dynamodb"
        || region.is_empty()
        || AccountId::parse(account).is_none()
    {
        return Err(BkError::validation("BackupArn is not valid"));
    }
    let rest = resource.strip_prefix("table/").ok_or_else(invalid)?;
    let (table, id) = rest.split_once("/backup/").ok_or_else(invalid)?;
    if table.is_empty() || id.is_empty() || id.contains('/') || table.contains('/') {
        return Err(invalid());
    }
    if *account != ctx.account.as_str() {
        return Err(DdbError::access_denied().into());
    }
    Ok((table.to_string(), id.to_string()))
}

/// A `TableName` member that may be a name or the caller's table ARN (§2.4 step 1; another
/// account's ARN is AccessDeniedException, see `table::name_in_arn`).
pub fn table_name(ctx: &RequestContext, input: &str) -> BkResult<String> {
    Ok(crate::table::name_of(ctx, input)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext::new(AccountId::default_account(), "us-east-1", "t")
    }

    #[test]
    fn ids_and_arns_round_trip() {
        let id = new_backup_id(1_576_616_366_715, false);
        assert_eq!(id.len(), 23);
        assert!(id.starts_with("01576616366715-"));
        assert_eq!(new_backup_id(5, true), "00000000000005-00000000");
        let arn = backup_arn(&ctx(), "Music", &id);
        assert_eq!(
            parse_backup_arn(&ctx(), &arn).unwrap(),
            ("Music".to_string(), id)
        );
        let table_arn = ctx().arn("dynamodb", "table/Music");
        assert_eq!(
            parse_backup_arn(&ctx(), &table_arn),
            Err(BkError::validation("Invalid Backup ARN"))
        );
        assert_eq!(
            parse_backup_arn(&ctx(), "nonsense"),
            Err(BkError::validation("Invalid Backup ARN"))
        );
        // Another account's: the form first, then the account (reference §2.5).
        let theirs = arn.replace("123456789012", "210987654321");
        assert_eq!(
            parse_backup_arn(&ctx(), &theirs),
            Err(BkError::AccessDenied("Access is denied".into()))
        );
        assert_eq!(
            parse_backup_arn(&ctx(), &arn.replace("123456789012", "2109876543")),
            Err(BkError::validation("BackupArn is not valid"))
        );
    }
}
