//! Admin routes for DynamoDB backup portability (DynamoDB's S3 export layout):
//!
//! * `POST /_tidemark/backup/export` with `{"BackupArn", "Directory", ["Account"],
//!   ["Region"]}` writes the backup as `<Directory>/AWSDynamoDB/<ExportId>/…` and answers `{"ExportId", "ExportDirectory", "ManifestSummary"}`.
//!   Account and region default to the ones the ARN names.
//! * `POST /_tidemark/backup/import` with `{"Directory", ["TableCreationParameters"],
//!   ["BackupName"], ["Account"], ["Region"]}` creates an AVAILABLE USER backup from the
//!   export and answers `{"BackupDetails", "TableName", "ItemCount", "SourceExportArn"}`.
//!   Account defaults to the permissive mode's (`tidemark_core::DEFAULT_ACCOUNT`), region
//!   to `tidemark_core::DEFAULT_REGION`.
//!
//! `Directory` is a path on the server's machine inside the exchange directory
//! (`serve --exchange-dir`): relative to it, or absolute and under it (`confine.rs`); the
//! dynamodb layer receives it resolved and absolute. A path that leaves the exchange
//! directory is refused with 403 `PathOutsideRoot` before anything is read or written.
//!
//! Errors answer `{"error": message, "code": short code}` with 400 (bad request, directory
//! or export content), 403 (a path outside the exchange directory), 404
//! (`BackupNotFoundException`), 409 (backup not AVAILABLE yet) or 500. Who may call these
//! routes is decided before they run (`tidemark_wire`'s `admin::refusal`).

use std::path::Path;

use serde_json::{Value, json};
use tidemark_wire::{AdminCall, StatusCode};

use crate::confine::Refused;
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
        EXPORT_PATH | IMPORT_PATH => {
            let export = call.path == EXPORT_PATH;
            let confined = match confine_directory(ctx, &call.body) {
                Ok(confined) => confined,
                Err(refused) => return Some(Ok(refusal(&refused))),
            };
            let body = confined.as_deref().unwrap_or(&call.body);
            if export {
                ctx.dynamodb.export_backup_json(body)
            } else {
                ctx.dynamodb.import_backup_json(body)
            }
        }
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

fn refusal(refused: &Refused) -> (StatusCode, Value) {
    (
        StatusCode::from_u16(refused.status()).unwrap_or(StatusCode::FORBIDDEN),
        json!({"error": format!("Directory {refused}"), "code": refused.code()}),
    )
}

/// The body with its `Directory` resolved inside the exchange directory. `None` keeps the
/// body as it is: not a JSON object, or a `Directory` that is missing, empty or not a
/// string, which the dynamodb layer answers with its own validation errors.
fn confine_directory(ctx: &AdminContext, body: &[u8]) -> Result<Option<Vec<u8>>, Refused> {
    let Ok(Value::Object(mut obj)) = serde_json::from_slice::<Value>(body) else {
        return Ok(None);
    };
    let Some(dir) = obj
        .get("Directory")
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
    else {
        return Ok(None);
    };
    let resolved = ctx.exchange.resolve(Path::new(dir))?;
    // An export is written under `AWSDynamoDB/`, and an import looks there for the export;
    // it may already exist as a symlink.
    ctx.exchange.resolve(&resolved.join("AWSDynamoDB"))?;
    let Some(text) = resolved.to_str() else {
        return Err(Refused::Io {
            what: resolved.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "not valid UTF-8"),
        });
    };
    obj.insert("Directory".into(), Value::String(text.to_owned()));
    serde_json::to_vec(&obj).map(Some).map_err(|e| Refused::Io {
        what: "request body".into(),
        source: std::io::Error::other(e),
    })
}
