//! Backup portability: exporting an AVAILABLE backup into DynamoDB's S3 export layout on a
//! local directory, and importing such an export (AWS's or tidemark's) as a new AVAILABLE
//! USER backup (`export/import.rs`). The layout itself is described in `export/layout.rs`.
//!
//! These are admin operations (`POST /_tidemark/backup/export|import`), not AWS operations:
//! the server runs locally, so directories are server-side absolute paths. Both stream: an
//! export reads the backup's vault records one by one into gzip'd data files, an import
//! reads data files line by line into a vault writer.

mod import;
mod layout;
mod params;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Value, json};
use tidemark_core::{AccountId, DEFAULT_ACCOUNT, DEFAULT_REGION, RequestContext};

use super::error::BkError;
use super::{BackupRecord, arn, describe};
use crate::service::DynamoDbService;
use layout::{DataFileEntry, DataFileWriter};

/// What can go wrong exporting or importing; each maps to an HTTP status and a short code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PortError {
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    BackupNotFound(String),
    /// The backup exists but cannot be exported yet (still CREATING).
    #[error("{0}")]
    BackupNotAvailable(String),
    /// The directory or a file in it is missing, unreadable or unwritable.
    #[error("{0}")]
    Directory(String),
    /// The export's content is invalid: a checksum mismatch, a bad manifest or data line.
    #[error("{0}")]
    InvalidExport(String),
    #[error("{0}")]
    Internal(String),
}

impl PortError {
    pub fn internal(e: impl std::fmt::Display) -> PortError {
        PortError::Internal(e.to_string())
    }

    pub fn io(path: &Path, e: std::io::Error) -> PortError {
        PortError::Directory(format!("{}: {e}", path.display()))
    }

    /// The HTTP status the admin route answers with.
    pub fn status(&self) -> u16 {
        match self {
            PortError::Validation(_) | PortError::Directory(_) | PortError::InvalidExport(_) => 400,
            PortError::BackupNotFound(_) => 404,
            PortError::BackupNotAvailable(_) => 409,
            PortError::Internal(_) => 500,
        }
    }

    /// A short, stable error code (AWS exception names where one fits).
    pub fn code(&self) -> &'static str {
        match self {
            PortError::Validation(_) => "ValidationException",
            PortError::BackupNotFound(_) => "BackupNotFoundException",
            PortError::BackupNotAvailable(_) => "BackupNotAvailable",
            PortError::Directory(_) => "InvalidDirectory",
            PortError::InvalidExport(_) => "InvalidExport",
            PortError::Internal(_) => "InternalServerError",
        }
    }
}

impl From<BkError> for PortError {
    fn from(e: BkError) -> Self {
        match e {
            BkError::Validation(m) => PortError::Validation(m),
            BkError::BackupNotFound(m) => PortError::BackupNotFound(m),
            // Only when the request's `Account` differs from the backup ARN's own.
            BkError::AccessDenied(_) => {
                PortError::Validation("BackupArn names an account other than Account".into())
            }
            other => PortError::Internal(other.to_string()),
        }
    }
}

impl From<crate::error::DdbError> for PortError {
    fn from(e: crate::error::DdbError) -> Self {
        BkError::from(e).into()
    }
}

impl From<tidemark_store::StoreError> for PortError {
    fn from(e: tidemark_store::StoreError) -> Self {
        PortError::internal(e)
    }
}

impl From<tidemark_vault::VaultError> for PortError {
    fn from(e: tidemark_vault::VaultError) -> Self {
        PortError::Internal(format!("vault: {e}"))
    }
}

/// `POST /_tidemark/backup/export` body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExportRequest {
    pub backup_arn: Option<String>,
    /// Absolute server-side directory; the export goes to `<Directory>/AWSDynamoDB/<ExportId>/`.
    pub directory: Option<String>,
    /// Default: the account and region named by the backup ARN.
    pub account: Option<String>,
    pub region: Option<String>,
}

/// The caller scope for an admin call: explicit Account/Region, else the `fallback` pair.
fn context(
    account: Option<&str>,
    region: Option<&str>,
    fallback: (&str, &str),
) -> Result<RequestContext, PortError> {
    let account = account.unwrap_or(fallback.0);
    let account = AccountId::parse(account).ok_or_else(|| {
        PortError::Validation(format!("Account must be a 12-digit account id: {account}"))
    })?;
    let region = region.unwrap_or(fallback.1);
    if region.is_empty() {
        return Err(PortError::Validation("Region must not be empty".into()));
    }
    Ok(RequestContext::new(
        account,
        region,
        tidemark_core::ids::uuid_request_id(),
    ))
}

/// A required absolute directory member.
fn directory(value: Option<&str>) -> Result<PathBuf, PortError> {
    let dir = value
        .filter(|d| !d.is_empty())
        .ok_or_else(|| PortError::Validation("Directory is required".into()))?;
    let path = PathBuf::from(dir);
    if !path.is_absolute() {
        return Err(PortError::Validation(format!(
            "Directory must be an absolute path on the server: {dir}"
        )));
    }
    Ok(path)
}

/// Exports the backup `req` names; answers `{ExportId, ExportDirectory, ManifestSummary}`.
pub fn export_backup(s: &DynamoDbService, req: &ExportRequest) -> Result<Value, PortError> {
    let backup_arn = req
        .backup_arn
        .as_deref()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| PortError::Validation("BackupArn is required".into()))?;
    let dir = directory(req.directory.as_deref())?;
    // arn:partition:dynamodb:region:account:table/T/backup/ID
    let parts: Vec<&str> = backup_arn.splitn(6, ':').collect();
    let from_arn = match parts.as_slice() {
        [_, _, _, region, account, _] => (*account, *region),
        _ => (DEFAULT_ACCOUNT, DEFAULT_REGION),
    };
    let ctx = context(req.account.as_deref(), req.region.as_deref(), from_arn)?;
    let (_, b) = describe::require(&*s.store.read()?, &ctx, backup_arn)?;
    if b.status != "AVAILABLE" {
        return Err(PortError::BackupNotAvailable(format!(
            "Backup {} is {}; it can be exported once it is AVAILABLE",
            b.arn, b.status
        )));
    }
    let start_ms = s.engine.now().as_millisecond();
    let export_id = arn::new_backup_id(start_ms, false);
    let root = dir.join("AWSDynamoDB").join(&export_id);
    std::fs::create_dir_all(root.join(layout::DATA_DIR))
        .map_err(|e| PortError::Directory(format!("cannot create {}: {e}", root.display())))?;
    let result = write_export(s, &ctx, &b, &root, &export_id, start_ms);
    if result.is_err() {
        // Only the export's own, freshly made directory is removed (the id is unique).
        let _ = std::fs::remove_dir_all(&root);
    }
    let summary = result?;
    Ok(json!({
        "ExportId": export_id,
        "ExportDirectory": root.display().to_string(),
        "ManifestSummary": summary,
    }))
}

fn write_export(
    s: &DynamoDbService,
    ctx: &RequestContext,
    b: &BackupRecord,
    root: &Path,
    export_id: &str,
    start_ms: i64,
) -> Result<Value, PortError> {
    layout::write_file(&root.join(layout::STARTED_FILE), b"")?;
    let key_prefix = format!("AWSDynamoDB/{export_id}/");
    let manifest: tidemark_vault::ManifestId = b
        .manifest
        .as_deref()
        .ok_or_else(|| PortError::internal("the backup holds no data"))?
        .parse()
        .map_err(|_| PortError::internal("bad manifest id"))?;
    let mut files: Vec<DataFileEntry> = Vec::new();
    let mut writer = DataFileWriter::create(root, &key_prefix)?;
    let mut items = 0u64;
    // The reader verifies every chunk's hash. Records are stored item JSON, which is
    // exactly the item's DynamoDB JSON (`storage::encode_item`), so they are copied as is.
    for record in s.backups.vault()?.reader(ctx.account.as_str(), &manifest)? {
        if writer.is_full() {
            files.push(writer.finish()?);
            writer = DataFileWriter::create(root, &key_prefix)?;
        }
        writer.write_item(&record?)?;
        items += 1;
    }
    files.push(writer.finish()?);
    let mut lines = Vec::new();
    for f in &files {
        serde_json::to_writer(&mut lines, f).map_err(PortError::internal)?;
        lines.push(b'\n');
    }
    layout::write_with_md5(root, layout::FILES_FILE, &lines)?;
    let table = params::table_file(b)?;
    let table_bytes = serde_json::to_vec_pretty(&table).map_err(PortError::internal)?;
    layout::write_file(&root.join(layout::TABLE_FILE), &table_bytes)?;
    let t = &b.source;
    let summary = json!({
        "version": layout::SUMMARY_VERSION,
        "exportArn": format!("{}/export/{export_id}", t.arn),
        "startTime": layout::manifest_time(start_ms)?,
        "endTime": layout::manifest_time(s.engine.now().as_millisecond())?,
        "tableArn": t.arn,
        "tableId": t.table_id,
        // The data is the backup's: as of its creation time.
        "exportTime": layout::manifest_time(b.created_ms)?,
        // A local directory has no bucket, prefix or server-side encryption.
        "s3Bucket": Value::Null,
        "s3Prefix": Value::Null,
        "s3SseAlgorithm": Value::Null,
        "s3SseKmsKeyId": Value::Null,
        "manifestFilesS3Key": format!("{key_prefix}{}", layout::FILES_FILE),
        "billedSizeBytes": b.size_bytes,
        "itemCount": items,
        "outputFormat": "DYNAMODB_JSON",
        "exportType": "FULL_EXPORT",
    });
    let bytes = serde_json::to_vec(&summary).map_err(PortError::internal)?;
    layout::write_with_md5(root, layout::SUMMARY_FILE, &bytes)?;
    Ok(summary)
}

impl DynamoDbService {
    /// `POST /_tidemark/backup/export`: parses the JSON body and exports (blocking I/O).
    pub fn export_backup_json(&self, body: &[u8]) -> Result<Value, PortError> {
        export_backup(self, &parse_body(body)?)
    }

    /// `POST /_tidemark/backup/import`: parses the JSON body and imports (blocking I/O).
    pub fn import_backup_json(&self, body: &[u8]) -> Result<Value, PortError> {
        import::import_backup(self, &parse_body(body)?)
    }
}

fn parse_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, PortError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| PortError::Validation(format!("invalid request body: {e}")))
}
