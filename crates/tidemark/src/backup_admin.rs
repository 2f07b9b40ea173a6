//! Admin routes for DynamoDB backup portability (DynamoDB's S3 export layout):
//!
//! * `POST /_tidemark/backup/export` with `{"BackupArn", "Directory", ["Account"],
//!   ["Region"]}` writes the backup as `<Directory>/AWSDynamoDB/<ExportId>/…` (a server-side
//!   absolute path) and answers `{"ExportId", "ExportDirectory", "ManifestSummary"}`.
//!   Account and region default to the ones the ARN names.
//! * `POST /_tidemark/backup/import` with `{"Directory", ["TableCreationParameters"],
//!   ["BackupName"], ["Account"], ["Region"]}` creates an AVAILABLE USER backup from the
//!   export and answers `{"BackupDetails", "TableName", "ItemCount", "SourceExportArn"}`.
//!   Account defaults to the permissive mode's (`tidemark_core::DEFAULT_ACCOUNT`), region
//!   to `tidemark_core::DEFAULT_REGION`.
//!
//! Errors answer `{"error": message, "code": short code}` with 400 (bad request, directory
//! or export content), 404 (`BackupNotFoundException`), 409 (backup not AVAILABLE yet) or
//! 500. Admin routes are unauthenticated, like the rest of `/_tidemark/`.

use serde_json::{Value, json};
use tidemark_wire::{AdminCall, StatusCode};

use crate::serve::AdminContext;

pub const EXPORT_PATH: &str = "/_tidemark/backup/export";
pub const IMPORT_PATH: &str = "/_tidemark/backup/import";

/// Answers the calls this module owns; `None` for any other path.
pub fn route(ctx: &AdminContext, call: &AdminCall) -> Option<Result<(StatusCode, Value), String>> {
    let result = match call.path.as_str() {
        EXPORT_PATH | IMPORT_PATH if call.method.as_str() != "POST" => {
            let msg = format!("{} takes POST", call.path);
            return Some(Ok((
                StatusCode::METHOD_NOT_ALLOWED,
                json!({"error": msg, "code": "MethodNotAllowed"}),
            )));
        }
        EXPORT_PATH => ctx.dynamodb.export_backup_json(&call.body),
        IMPORT_PATH => ctx.dynamodb.import_backup_json(&call.body),
        _ => return None,
    };
    Some(Ok(match result {
        Ok(v) => (StatusCode::OK, v),
        Err(e) => (
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            json!({"error": e.to_string(), "code": e.code()}),
        ),
    }))
}
