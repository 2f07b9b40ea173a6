//! `tidemark backup export|import`: moves DynamoDB backups of a running server in and out
//! of DynamoDB's S3 export layout through the admin routes (`backup_admin.rs`). The server
//! holds the data (its store is locked while it runs), so the client only names
//! directories, which the server resolves inside its exchange directory
//! (`serve --exchange-dir`): a relative one under it, an absolute one must lie in it.
//! Requests are signed with the configured AWS credentials (`tidemark_cli::admin`), as a
//! strict server's admin API requires.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};

/// The endpoint when neither `--endpoint-url` nor the environment names one.
const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8787";

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
    /// Write an AVAILABLE backup as a DynamoDB S3 export (DYNAMODB_JSON, with manifests)
    /// under OUTPUT_DIR/AWSDynamoDB/<ExportId>/.
    Export(ExportArgs),
    /// Create an AVAILABLE backup from a DynamoDB S3 export directory (AWS's or tidemark's);
    /// restore it with `tidemark dynamodb restore-table-from-backup`.
    Import(ImportArgs),
}

#[derive(Args, Debug)]
pub struct Server {
    /// The tidemark server. Default: $TIDEMARK_ENDPOINT, $AWS_ENDPOINT_URL, or
    /// http://127.0.0.1:8787.
    #[arg(long)]
    endpoint_url: Option<String>,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// ARN of the backup to export.
    #[arg(long)]
    backup_arn: String,
    /// Directory to write into (created if missing), on the server's machine: relative to
    /// the server's exchange directory, or an absolute path inside it.
    #[arg(long)]
    output_dir: PathBuf,
    #[command(flatten)]
    server: Server,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The export directory (…/AWSDynamoDB/<ExportId>) or one holding a single export, on
    /// the server's machine: relative to the server's exchange directory, or an absolute
    /// path inside it.
    #[arg(long)]
    input_dir: PathBuf,
    /// ImportTable-style TableCreationParameters as JSON or file://PATH. Optional for
    /// exports made by tidemark (they carry tidemark-table.json).
    #[arg(long)]
    table_creation_parameters: Option<String>,
    /// Name of the new backup. Default: import-<ExportId>.
    #[arg(long)]
    backup_name: Option<String>,
    /// Account that owns the new backup. Default: 123456789012 (permissive mode's).
    #[arg(long)]
    account: Option<String>,
    /// Region of the new backup. Default: us-east-1.
    #[arg(long)]
    region: Option<String>,
    #[command(flatten)]
    server: Server,
}

pub fn run(cmd: BackupCommand) -> anyhow::Result<()> {
    let (server, path, body) = match cmd {
        BackupCommand::Export(a) => {
            let body = json!({
                "BackupArn": a.backup_arn,
                "Directory": utf8(&a.output_dir)?,
            });
            (a.server, crate::backup_admin::EXPORT_PATH, body)
        }
        BackupCommand::Import(a) => {
            let mut body = json!({ "Directory": utf8(&a.input_dir)? });
            if let Some(p) = &a.table_creation_parameters {
                body["TableCreationParameters"] = parameters(p)?;
            }
            for (key, value) in [
                ("BackupName", a.backup_name),
                ("Account", a.account),
                ("Region", a.region),
            ] {
                if let Some(v) = value {
                    body[key] = Value::String(v);
                }
            }
            (a.server, crate::backup_admin::IMPORT_PATH, body)
        }
    };
    let answer = call(&endpoint(server.endpoint_url), path, &body)?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}

fn endpoint(flag: Option<String>) -> String {
    flag.into_iter()
        .chain(
            ["TIDEMARK_ENDPOINT", "AWS_ENDPOINT_URL"]
                .map(|v| std::env::var(v).ok())
                .into_iter()
                .flatten(),
        )
        .find(|e| !e.is_empty())
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
}

/// The path as sent: the server resolves it against its exchange directory, not the
/// client's working directory.
fn utf8(dir: &Path) -> anyhow::Result<&str> {
    dir.to_str()
        .with_context(|| format!("{} is not valid UTF-8", dir.display()))
}

/// `--table-creation-parameters`: inline JSON or `file://PATH`, like the aws CLI.
fn parameters(arg: &str) -> anyhow::Result<Value> {
    let text = match arg.strip_prefix("file://") {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?,
        None => arg.to_string(),
    };
    let v: Value =
        serde_json::from_str(&text).context("--table-creation-parameters is not valid JSON")?;
    if !v.is_object() {
        bail!("--table-creation-parameters must be a JSON object");
    }
    Ok(v)
}

fn call(endpoint: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
    let bytes = serde_json::to_vec(body)?;
    let resp = tidemark_cli::admin::send(&tidemark_cli::admin::AdminRequest {
        endpoint,
        method: "POST",
        path,
        body: &bytes,
        // Exports and imports of large backups take as long as they take.
        read_timeout: None,
    })
    .map_err(|e| anyhow::anyhow!("{}", e.stderr_text().trim()))?;
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    if resp.status != 200 {
        let msg = v.get("error").and_then(Value::as_str).map_or_else(
            || String::from_utf8_lossy(&resp.body).into_owned(),
            str::to_string,
        );
        let code = v.get("code").and_then(Value::as_str).unwrap_or("Error");
        bail!("{code} ({}): {msg}", resp.status);
    }
    Ok(v)
}
