//! Importing a DynamoDB S3 export (FULL_EXPORT, DYNAMODB_JSON) from a local directory as a
//! new AVAILABLE USER backup: checksums first (manifests and every data file), then the
//! data files are streamed line by line into a vault writer in the record format backups
//! use (stored item JSON), each item validated against the table's key schema. Nothing is
//! recorded unless every line is good, so a failed import leaves no backup behind.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use indexmap::IndexMap;
use md5::{Digest, Md5};
use serde::Deserialize;
use serde_json::{Value, json};
use tidemark_core::{DEFAULT_ACCOUNT, DEFAULT_REGION};
use tidemark_model::dynamodb as m;

use super::layout::{self, DataFileEntry};
use super::params::{self, TableFile};
use super::{PortError, context, directory};
use crate::attr::{self, Item, RawAttributeValue};
use crate::backup::{BackupRecord, arn, describe};
use crate::storage;
use crate::table::TableRecord;

/// `POST /_tidemark/backup/import` body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportRequest {
    /// The export directory (`…/AWSDynamoDB/<ExportId>`), or a directory holding exactly
    /// one export under `AWSDynamoDB/`.
    pub directory: Option<String>,
    /// ImportTable's shape; optional when the export carries `tidemark-table.json`.
    pub table_creation_parameters: Option<m::TableCreationParameters>,
    pub backup_name: Option<String>,
    /// Default: the permissive-mode default account and us-east-1.
    pub account: Option<String>,
    pub region: Option<String>,
}

/// The summary fields an import reads (everything else is informational).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    #[serde(default)]
    export_arn: Option<String>,
    #[serde(default)]
    item_count: Option<u64>,
    #[serde(default)]
    output_format: Option<String>,
    #[serde(default)]
    export_type: Option<String>,
}

/// One data line of a full DYNAMODB_JSON export.
#[derive(Deserialize)]
struct Line {
    #[serde(rename = "Item")]
    item: IndexMap<String, RawAttributeValue>,
}

fn invalid(msg: impl Into<String>) -> PortError {
    PortError::InvalidExport(msg.into())
}

/// Finds the export directory (the one holding `manifest-summary.json`) at or under `dir`.
fn find_export_dir(dir: &Path) -> Result<PathBuf, PortError> {
    if !dir.is_dir() {
        return Err(PortError::Directory(format!(
            "{}: not a directory",
            dir.display()
        )));
    }
    if dir.join(layout::SUMMARY_FILE).is_file() {
        return Ok(dir.to_path_buf());
    }
    let base = if dir.join("AWSDynamoDB").is_dir() {
        dir.join("AWSDynamoDB")
    } else {
        dir.to_path_buf()
    };
    let mut found = Vec::new();
    for e in std::fs::read_dir(&base).map_err(|e| PortError::io(&base, e))? {
        let p = e.map_err(|e| PortError::io(&base, e))?.path();
        if p.join(layout::SUMMARY_FILE).is_file() {
            found.push(p);
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(PortError::Directory(format!(
            "{}: no {} here or in AWSDynamoDB/<ExportId>/ below it",
            dir.display(),
            layout::SUMMARY_FILE
        ))),
        _ => Err(PortError::Directory(format!(
            "{}: holds several exports; name one of them: {}",
            dir.display(),
            found
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, PortError> {
    std::fs::read(path).map_err(|e| PortError::io(path, e))
}

/// Checks `name` against its `.md5` (or `.checksum`) file when one exists. A `.checksum`
/// that is not a base64 MD5 is of an unknown kind and skipped.
fn verify_manifest(root: &Path, name: &str, content: &[u8]) -> Result<(), PortError> {
    let stem = name.strip_suffix(".json").unwrap_or(name);
    for ext in ["md5", "checksum"] {
        let path = root.join(format!("{stem}.{ext}"));
        if !path.is_file() {
            continue;
        }
        let text = String::from_utf8_lossy(&read(&path)?).trim().to_string();
        let is_md5 = STANDARD.decode(&text).is_ok_and(|d| d.len() == 16);
        if ext == "checksum" && !is_md5 {
            continue;
        }
        let actual = layout::md5_base64(content);
        if text != actual {
            return Err(invalid(format!(
                "{name} does not match {stem}.{ext}: expected MD5 {text}, the file has {actual}"
            )));
        }
    }
    Ok(())
}

/// The local path of a data file key (`[prefix/]AWSDynamoDB/<ExportId>/data/<name>`).
fn data_path(root: &Path, key: &str) -> Result<PathBuf, PortError> {
    let (parent, name) = key.rsplit_once('/').unwrap_or(("", key));
    let in_data = parent == layout::DATA_DIR || parent.ends_with("/data");
    if !in_data || name.is_empty() || name == "." || name == ".." {
        return Err(invalid(format!(
            "{}: dataFileS3Key {key:?} does not name a file under data/",
            layout::FILES_FILE
        )));
    }
    Ok(root.join(layout::DATA_DIR).join(name))
}

fn verify_data_file(path: &Path, rel: &str, e: &DataFileEntry) -> Result<(), PortError> {
    let Some(expected) = &e.md5_checksum else {
        return Ok(());
    };
    let mut f = File::open(path).map_err(|err| PortError::io(path, err))?;
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|err| PortError::io(path, err))?;
        if n == 0 {
            break;
        }
        md5.update(&buf[..n]);
    }
    let actual = STANDARD.encode(md5.finalize());
    if &actual != expected {
        return Err(invalid(format!(
            "{rel}: MD5 {actual} does not match md5Checksum {expected} in {}",
            layout::FILES_FILE
        )));
    }
    Ok(())
}

/// Streams a data file's items into `sink`; returns how many there were.
fn read_items(
    path: &Path,
    rel: &str,
    mut sink: impl FnMut(Item) -> Result<(), String>,
) -> Result<u64, PortError> {
    let f = File::open(path).map_err(|e| PortError::io(path, e))?;
    let mut lines = BufReader::new(flate2::read::MultiGzDecoder::new(BufReader::new(f)));
    let mut buf = Vec::new();
    let (mut n, mut count) = (0u64, 0u64);
    loop {
        buf.clear();
        let read = lines
            .read_until(b'\n', &mut buf)
            .map_err(|e| invalid(format!("{rel}: cannot decompress: {e}")))?;
        if read == 0 {
            return Ok(count);
        }
        n += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let at = |m: String| invalid(format!("{rel} line {n}: {m}"));
        let line: Line = serde_json::from_slice(&buf)
            .map_err(|e| at(format!("expected {{\"Item\":{{…DynamoDB JSON…}}}}: {e}")))?;
        let item = attr::item_from_raw(line.item).map_err(|e| at(e.to_string()))?;
        sink(item).map_err(at)?;
        count += 1;
    }
}

/// The import itself; answers `{BackupDetails, ItemCount, TableName, SourceExportArn}`.
pub fn import_backup(
    s: &crate::service::DynamoDbService,
    req: &ImportRequest,
) -> Result<Value, PortError> {
    let ctx = context(
        req.account.as_deref(),
        req.region.as_deref(),
        (DEFAULT_ACCOUNT, DEFAULT_REGION),
    )?;
    let root = find_export_dir(&directory(req.directory.as_deref())?)?;
    let summary_bytes = read(&root.join(layout::SUMMARY_FILE))?;
    verify_manifest(&root, layout::SUMMARY_FILE, &summary_bytes)?;
    let summary: Summary = serde_json::from_slice(&summary_bytes)
        .map_err(|e| invalid(format!("{}: {e}", layout::SUMMARY_FILE)))?;
    match summary.output_format.as_deref() {
        None | Some("DYNAMODB_JSON") => {}
        Some(other) => {
            return Err(invalid(format!(
                "outputFormat {other} is not supported: export as DYNAMODB_JSON"
            )));
        }
    }
    match summary.export_type.as_deref() {
        None | Some("FULL_EXPORT") => {}
        Some(other) => {
            return Err(invalid(format!(
                "exportType {other} is not supported: only a FULL_EXPORT is a whole table"
            )));
        }
    }
    let files_bytes = read(&root.join(layout::FILES_FILE))?;
    verify_manifest(&root, layout::FILES_FILE, &files_bytes)?;
    let mut files = Vec::new();
    for (i, line) in files_bytes.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let e: DataFileEntry = serde_json::from_slice(line)
            .map_err(|e| invalid(format!("{} line {}: {e}", layout::FILES_FILE, i + 1)))?;
        let path = data_path(&root, &e.data_file_s3_key)?;
        let rel = format!(
            "{}/{}",
            layout::DATA_DIR,
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        verify_data_file(&path, &rel, &e)?;
        files.push((path, rel, e));
    }
    let now_ms = s.engine.now().as_millisecond();
    let source = source_table(&ctx, &root, req.table_creation_parameters.as_ref(), now_ms)?;
    let export_id = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match &req.backup_name {
        Some(n) => n.clone(),
        None => format!("import-{export_id}")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            .take(255)
            .collect(),
    };
    params::check_name("BackupName", &name)?;

    let backup_id = arn::new_backup_id(now_ms, false);
    let backup_arn = arn::backup_arn(&ctx, &source.name, &backup_id);
    let meta = json!({
        "kind": "dynamodb-backup",
        "backup_arn": backup_arn,
        "table_id": source.table_id,
        "imported_from": summary.export_arn,
    });
    let mut w = s
        .backups
        .vault()?
        .writer(ctx.account.as_str(), meta, None)?;
    let schema = source.key.schema();
    let mut seen: HashSet<[u8; 16]> = HashSet::new();
    let (mut total, mut size) = (0u64, 0i64);
    for (path, rel, e) in &files {
        let count = read_items(path, rel, |item| {
            schema.check_item(&item).map_err(|e| e.to_string())?;
            crate::write_core::check_index_keys(&source, &item).map_err(|e| e.to_string())?;
            let bytes = attr::item_size(&item);
            if bytes > attr::MAX_ITEM_BYTES {
                return Err(format!(
                    "item size {bytes} exceeds DynamoDB's limit of {} bytes",
                    attr::MAX_ITEM_BYTES
                ));
            }
            // A restore writes each key once, so a key may appear only once (MD5 of the
            // encoded key: collisions are negligible next to the memory a full key set takes).
            let key = schema.encode_key(&item).ok_or("item without its key")?;
            if !seen.insert(Md5::digest(&key).into()) {
                return Err("duplicate primary key: an earlier line holds the same key".into());
            }
            let record = storage::encode_item(&item).map_err(|e| e.to_string())?;
            w.write_record(&record).map_err(|e| format!("vault: {e}"))?;
            size += bytes as i64;
            Ok(())
        })?;
        if let Some(expected) = e.item_count.filter(|c| *c != count) {
            return Err(invalid(format!(
                "{rel}: holds {count} items but {} says {expected}",
                layout::FILES_FILE
            )));
        }
        total += count;
    }
    if let Some(expected) = summary.item_count.filter(|c| *c != total) {
        return Err(invalid(format!(
            "the data files hold {total} items but {} says itemCount {expected}",
            layout::SUMMARY_FILE
        )));
    }
    let (manifest, _) = w.finish()?;
    let record = BackupRecord {
        arn: backup_arn,
        name,
        table_name: source.name.clone(),
        backup_id: backup_id.clone(),
        backup_type: "USER".into(),
        status: "AVAILABLE".into(),
        created_ms: now_ms,
        expiry_ms: None,
        size_bytes: size,
        source_items: total as i64,
        source_bytes: size,
        source,
        manifest: Some(manifest.to_string()),
        restoring: None,
    };
    let key = crate::backup::backup_key(&ctx, &record.table_name, &backup_id);
    let mut txn = s.store.write()?;
    crate::backup::save(&mut *txn, &key, &record)?;
    txn.commit()?;
    Ok(json!({
        "BackupDetails": describe::details(&record)?,
        "TableName": record.table_name,
        "ItemCount": total,
        "SourceExportArn": summary.export_arn,
    }))
}

/// The source table: TableCreationParameters when given, else `tidemark-table.json`.
fn source_table(
    ctx: &tidemark_core::RequestContext,
    root: &Path,
    p: Option<&m::TableCreationParameters>,
    now_ms: i64,
) -> Result<TableRecord, PortError> {
    if let Some(p) = p {
        return params::record_from_parameters(ctx, p, now_ms);
    }
    let path = root.join(layout::TABLE_FILE);
    if !path.is_file() {
        return Err(PortError::Validation(format!(
            "TableCreationParameters is required: the export at {} has no {} (it was not made by tidemark)",
            root.display(),
            layout::TABLE_FILE
        )));
    }
    let file: TableFile = serde_json::from_slice(&read(&path)?)
        .map_err(|e| invalid(format!("{}: {e}", layout::TABLE_FILE)))?;
    params::record_from_table_file(ctx, &file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_keys_resolve_only_to_files_under_data() {
        let root = Path::new("/x/AWSDynamoDB/id");
        assert_eq!(
            data_path(root, "pre/fix/AWSDynamoDB/id/data/abc.json.gz").unwrap(),
            root.join("data/abc.json.gz")
        );
        assert_eq!(
            data_path(root, "data/abc.json.gz").unwrap(),
            root.join("data/abc.json.gz")
        );
        for bad in [
            "AWSDynamoDB/id/data/../../etc",
            "AWSDynamoDB/id/data/..",
            "abc.json.gz",
            "AWSDynamoDB/id/other/abc.json.gz",
            "AWSDynamoDB/id/data/",
        ] {
            assert!(
                matches!(data_path(root, bad), Err(PortError::InvalidExport(_))),
                "{bad}"
            );
        }
    }
}
