//! The admin route that registers the secrets the Data API's `SecretArn` names, since
//! tidemark serves no Secrets Manager (the Data API reads a Redshift secret's `username`,
//! `password` and optional `dbClusterIdentifier`, as AWS's do):
//!
//! * `POST /_tidemark/redshift-data/secrets` with `{"Name", "SecretString", ["Account"],
//!   ["Region"]}` → `{"ARN", "Name"}`: registers the secret, or replaces the value of the one
//!   of that name (its ARN stays), as CreateSecret and PutSecretValue do.
//! * `GET /_tidemark/redshift-data/secrets[?account=…][&region=…]` → `{"Secrets": [{"Name",
//!   "ARN"}]}`, never the values.
//! * `DELETE /_tidemark/redshift-data/secrets?secret=<name or ARN>[&account=…][&region=…]` →
//!   `{"Deleted": "<ARN>"}`, or a 404 when there is no such secret.
//!
//! `account` defaults to the permissive mode's account, `region` to the default region, as
//! the other admin routes do. Like every admin route it needs, on a strict server, an admin
//! credential's signature (`tidemark_wire::admin`). With a data directory the secrets are
//! kept in its `redshift-data-secrets.json` (mode 0600) and survive a restart.

use serde_json::{Value, json};
use tidemark_redshift_data::SecretError;
use tidemark_wire::{AdminCall, StatusCode};

use crate::serve::AdminContext;

pub const SECRETS_PATH: &str = "/_tidemark/redshift-data/secrets";

/// Answers the calls this module owns; `None` for any other path.
pub fn route(ctx: &AdminContext, call: &AdminCall) -> Option<Result<(StatusCode, Value), String>> {
    if call.path != SECRETS_PATH {
        return None;
    }
    Some(secrets(ctx, call))
}

fn account_of(v: Option<String>) -> Result<String, String> {
    let account = v.unwrap_or_else(|| tidemark_core::DEFAULT_ACCOUNT.into());
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("account must be 12 digits, got {account:?}"));
    }
    Ok(account)
}

/// A refused request is a 400 with the reason; a registry that cannot be written a 500.
fn answer(e: SecretError) -> Result<(StatusCode, Value), String> {
    match e {
        SecretError::Invalid(m) => Err(m),
        SecretError::Io(m) => Ok((StatusCode::INTERNAL_SERVER_ERROR, json!({"error": m}))),
    }
}

fn secrets(ctx: &AdminContext, call: &AdminCall) -> Result<(StatusCode, Value), String> {
    let registry = ctx.redshift_data.secrets();
    let q = &call.query;
    match call.method.as_str() {
        "POST" => {
            let body: Value = serde_json::from_slice(&call.body)
                .map_err(|e| format!("body must be a JSON object: {e}"))?;
            let text = |k: &str| -> Result<Option<String>, String> {
                match body.get(k) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone())),
                    Some(_) => Err(format!("{k} must be a string")),
                }
            };
            let name = text("Name")?.ok_or("Name is required")?;
            let value = text("SecretString")?.ok_or("SecretString is required")?;
            let account = account_of(text("Account")?)?;
            let region = text("Region")?.unwrap_or_else(|| tidemark_core::DEFAULT_REGION.into());
            match registry.put(&account, &region, &name, &value) {
                Ok(arn) => Ok((StatusCode::OK, json!({"ARN": arn, "Name": name}))),
                Err(e) => answer(e),
            }
        }
        "GET" => {
            let account = account_of(param(q, "account")?)?;
            let region =
                param(q, "region")?.unwrap_or_else(|| tidemark_core::DEFAULT_REGION.into());
            match registry.list(&account, &region) {
                Ok(list) => {
                    let items: Vec<Value> = list
                        .into_iter()
                        .map(|(name, arn)| json!({"Name": name, "ARN": arn}))
                        .collect();
                    Ok((StatusCode::OK, json!({ "Secrets": items })))
                }
                Err(e) => answer(e),
            }
        }
        "DELETE" => {
            let id = param(q, "secret")?.ok_or("the secret query parameter is required")?;
            let account = account_of(param(q, "account")?)?;
            let region =
                param(q, "region")?.unwrap_or_else(|| tidemark_core::DEFAULT_REGION.into());
            let arn = match registry.get(&account, &region, &id) {
                Ok(Some(s)) => s.arn,
                Ok(None) => {
                    return Ok((
                        StatusCode::NOT_FOUND,
                        json!({"error": format!("no secret {id} in {account}/{region}")}),
                    ));
                }
                Err(e) => return answer(e),
            };
            match registry.delete(&account, &region, &arn) {
                Ok(_) => Ok((StatusCode::OK, json!({ "Deleted": arn }))),
                Err(e) => answer(e),
            }
        }
        m => Err(format!(
            "{SECRETS_PATH} supports POST, GET and DELETE, not {m}"
        )),
    }
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

/// The decoded value of query parameter `key`, if present.
fn param(query: &str, key: &str) -> Result<Option<String>, String> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if decode(k)? == key {
            return decode(v).map(Some);
        }
    }
    Ok(None)
}
