//! Admin routes for Redshift cluster volumes, so users and tests can find and fill the data
//! a snapshot captures:
//!
//! * `GET /_tidemark/redshift/volume?cluster=<id>[&account=<12 digits>][&region=<r>]` →
//!   `{"cluster", "account", "region", "status", "path", "files": [{"name", "bytes"}],
//!   "total_bytes"}`; `path` is the volume directory (`null` with `--in-memory`, where
//!   volumes live in the store).
//! * `PUT /_tidemark/redshift/volume?cluster=<id>&name=<file>[&account=…][&region=…]` with
//!   the file's bytes as the body (at most the server's body limit) → `{"name", "bytes"}`.
//!
//! `account` defaults to the permissive mode's account (`tidemark_core::DEFAULT_ACCOUNT`),
//! `region` to `tidemark_core::DEFAULT_REGION`. An unknown cluster is a 404. A `name` that is
//! not a plain volume file name is a 400; one that leads out of the volumes directory
//! through a symlink someone placed in a volume is a 403 naming that directory
//! (`confine.rs`), and nothing is written.

use serde_json::{Value, json};
use tidemark_redshift::Scope;
use tidemark_wire::{AdminCall, StatusCode};

use crate::confine::Root;
use crate::serve::AdminContext;

const VOLUME_PATH: &str = "/_tidemark/redshift/volume";

/// Answers the calls this module owns; `None` for any other path.
pub fn route(ctx: &AdminContext, call: &AdminCall) -> Option<Result<(StatusCode, Value), String>> {
    if call.path != VOLUME_PATH {
        return None;
    }
    Some(volume(ctx, call))
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad percent escape in {s:?}"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8"))
}

pub(crate) fn param(query: &str, key: &str) -> Result<Option<String>, String> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if decode(k)? == key {
            return decode(v).map(Some);
        }
    }
    Ok(None)
}

fn volume(ctx: &AdminContext, call: &AdminCall) -> Result<(StatusCode, Value), String> {
    let q = &call.query;
    let cluster = param(q, "cluster")?
        .ok_or("the cluster query parameter is required")?
        .to_ascii_lowercase();
    let account = param(q, "account")?.unwrap_or_else(|| tidemark_core::DEFAULT_ACCOUNT.into());
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("account must be 12 digits, got {account:?}"));
    }
    let region = param(q, "region")?.unwrap_or_else(|| tidemark_core::DEFAULT_REGION.into());
    let scope = Scope { account, region };
    let Some(status) = ctx.redshift.cluster_status(&scope, &cluster)? else {
        return Ok((
            StatusCode::NOT_FOUND,
            json!({"error": format!("cluster {cluster} not found in {}/{}", scope.account, scope.region)}),
        ));
    };
    let volumes = ctx.redshift.volumes();
    match call.method.as_str() {
        "GET" => {
            let files = volumes.list_files(&scope, &cluster)?;
            let total: u64 = files.iter().map(|f| f.bytes).sum();
            let path = volumes
                .volume_path(&scope, &cluster)
                .map(|p| p.display().to_string());
            Ok((
                StatusCode::OK,
                json!({
                    "cluster": cluster, "account": scope.account, "region": scope.region,
                    "status": status, "path": path, "files": files, "total_bytes": total,
                }),
            ))
        }
        "PUT" => {
            let name = param(q, "name")?.ok_or("the name query parameter is required")?;
            tidemark_redshift::check_name(&name)?;
            if let (Some(dir), Some(data_dir)) =
                (volumes.volume_path(&scope, &cluster), &ctx.data_dir)
            {
                let root =
                    Root::new(tidemark_redshift::DirVolumes::under_data_dir(data_dir).root());
                if let Err(refused) = root.resolve(&dir.join(&name)) {
                    return Ok((
                        StatusCode::from_u16(refused.status()).unwrap_or(StatusCode::FORBIDDEN),
                        json!({"error": format!("volume file {refused}"), "code": refused.code()}),
                    ));
                }
            }
            volumes.write_file(&scope, &cluster, &name, &call.body)?;
            Ok((
                StatusCode::OK,
                json!({"name": name, "bytes": call.body.len()}),
            ))
        }
        m => Err(format!("{VOLUME_PATH} supports GET and PUT, not {m}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_decoded() {
        let q = "cluster=C1&name=base%2Fdev%2Ft+1&empty=";
        assert_eq!(param(q, "cluster").unwrap().as_deref(), Some("C1"));
        assert_eq!(param(q, "name").unwrap().as_deref(), Some("base/dev/t 1"));
        assert_eq!(param(q, "empty").unwrap().as_deref(), Some(""));
        assert_eq!(param(q, "missing").unwrap(), None);
        assert!(param("x=%zz", "x").is_err());
    }
}
