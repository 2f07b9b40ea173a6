//! `tidemark backup export|import`: moves DynamoDB backups of a running server in and out
//! of DynamoDB's S3 export layout through the admin routes (`backup_admin.rs`). The server
//! holds the data (its store is locked while it runs), so the client only names
//! directories; both must be reachable by the server, which runs on this machine.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::{Value, json};
use tidemark_cli::http;

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
    /// Directory to write into (created if missing).
    #[arg(long)]
    output_dir: PathBuf,
    #[command(flatten)]
    server: Server,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The export directory (…/AWSDynamoDB/<ExportId>) or one holding a single export.
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
            std::fs::create_dir_all(&a.output_dir)
                .with_context(|| format!("creating {}", a.output_dir.display()))?;
            let body = json!({
                "BackupArn": a.backup_arn,
                "Directory": absolute(&a.output_dir)?,
            });
            (a.server, crate::backup_admin::EXPORT_PATH, body)
        }
        BackupCommand::Import(a) => {
            let mut body = json!({ "Directory": absolute(&a.input_dir)? });
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

/// The server resolves paths itself, so a relative path is made absolute here.
fn absolute(dir: &Path) -> anyhow::Result<String> {
    let abs = std::fs::canonicalize(dir).with_context(|| format!("{}", dir.display()))?;
    abs.to_str()
        .map(str::to_string)
        .with_context(|| format!("{} is not valid UTF-8", abs.display()))
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
    let base = http::parse_url(endpoint).with_context(|| format!("invalid endpoint {endpoint}"))?;
    let url = http::Url {
        path: path.to_string(),
        ..base
    };
    let headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    let opts = http::Options {
        connect_timeout: Some(Duration::from_secs(10)),
        // Exports and imports of large backups take as long as they take.
        read_timeout: None,
        tls: tidemark_cli::tls::TlsOptions {
            verify: true,
            ca_bundle: None,
        },
    };
    let bytes = serde_json::to_vec(body)?;
    let resp = http::request("POST", &url, &headers, &bytes, &opts)
        .map_err(|e| anyhow::anyhow!("could not reach the tidemark server at {endpoint}: {e:?}"))?;
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
