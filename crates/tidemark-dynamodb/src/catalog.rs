//! Where DynamoDB records live in the store. Every key starts with the owner's account and
//! region, so one account can never reach another's tables or backups.

use tidemark_core::RequestContext;
use tidemark_store::keys::{self, KeyReader};

/// Tables: key = scope ‖ table name; value = JSON table description.
pub const TABLES_TABLE: &str = "dynamodb.tables";

/// The key prefix of everything the caller's account owns in its region.
pub fn scope(ctx: &RequestContext) -> Vec<u8> {
    let mut k = Vec::with_capacity(32);
    keys::push_bytes(&mut k, ctx.account.as_str().as_bytes());
    keys::push_bytes(&mut k, ctx.region.as_bytes());
    k
}

/// The key of one named record in the caller's scope.
pub fn key(ctx: &RequestContext, name: &str) -> Vec<u8> {
    let mut k = scope(ctx);
    keys::push_bytes(&mut k, name.as_bytes());
    k
}

/// The name part of a key made by [`key`].
pub fn name_from_key(ctx: &RequestContext, key: &[u8]) -> Result<String, String> {
    let rest = key
        .strip_prefix(scope(ctx).as_slice())
        .ok_or("key outside the caller's scope")?;
    let bytes = KeyReader::new(rest).bytes().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}
