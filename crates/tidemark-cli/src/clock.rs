//! `tidemark clock show|set <RFC3339>|advance <duration>|freeze|unfreeze`: the admin client of a
//! running tidemark server's virtual clock (`GET`/`POST /_tidemark/clock`).
//!
//! The endpoint comes from `--endpoint-url`, else `AWS_ENDPOINT_URL`, else the local default.
//! Requests are signed with the configured AWS credentials (`admin.rs`).

use serde_json::Value;

use crate::config::DEFAULT_ENDPOINT;
use crate::error::CliError;
use crate::printer::Printer;

const USAGE: &str = "usage: tidemark clock show|set <RFC3339>|advance <duration>|freeze|unfreeze [--endpoint-url URL]";

/// Parses `36d`, `8h`, `90m`, `45s`, `1d12h`, or plain seconds into seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    if body.is_empty() {
        return Err(format!("invalid duration '{s}'"));
    }
    if let Ok(n) = body.parse::<i64>() {
        return Ok(if neg { -n } else { n });
    }
    let mut total: i64 = 0;
    let mut num = String::new();
    for c in body.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            'w' => 604_800,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => {
                return Err(format!(
                    "invalid duration '{s}': unknown unit '{c}' (use w, d, h, m, s)"
                ));
            }
        };
        let n: i64 = num.parse().map_err(|_| format!("invalid duration '{s}'"))?;
        total = total
            .checked_add(n.checked_mul(unit).ok_or("duration overflows")?)
            .ok_or("duration overflows")?;
        num.clear();
    }
    if !num.is_empty() {
        return Err(format!("invalid duration '{s}': missing unit after {num}"));
    }
    Ok(if neg { -total } else { total })
}

/// Runs a clock subcommand.
pub fn run(argv: &[String], printer: &mut dyn Printer) -> Result<i32, CliError> {
    let mut endpoint = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_ENDPOINT.into());
    let mut rest = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        if argv[i] == "--endpoint-url" {
            endpoint = argv
                .get(i + 1)
                .cloned()
                .ok_or_else(|| CliError::Failure(USAGE.into()))?;
            i += 2;
        } else if let Some(v) = argv[i].strip_prefix("--endpoint-url=") {
            endpoint = v.to_string();
            i += 1;
        } else {
            rest.push(argv[i].clone());
            i += 1;
        }
    }
    let body: Option<Value> = match rest
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["show"] => None,
        ["set", t] => {
            t.parse::<jiff::Timestamp>()
                .map_err(|e| CliError::Failure(format!("invalid RFC 3339 time '{t}': {e}")))?;
            Some(serde_json::json!({ "set": t }))
        }
        ["advance", d] => Some(
            serde_json::json!({ "advance_seconds": parse_duration(d).map_err(CliError::Failure)? }),
        ),
        ["freeze"] => Some(serde_json::json!({ "freeze": true })),
        ["unfreeze"] => Some(serde_json::json!({ "freeze": false })),
        _ => return Err(CliError::Failure(USAGE.into())),
    };
    let (method, bytes) = match &body {
        Some(b) => ("POST", serde_json::to_vec(b).unwrap_or_default()),
        None => ("GET", Vec::new()),
    };
    // Signed with the configured credentials: a strict server wants an admin credential.
    let resp = crate::admin::send(&crate::admin::AdminRequest {
        endpoint: &endpoint,
        method,
        path: "/_tidemark/clock",
        body: &bytes,
        read_timeout: Some(std::time::Duration::from_secs(10)),
    })?;
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    if resp.status != 200 {
        let msg = v
            .get("error")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| String::from_utf8_lossy(&resp.body).into_owned());
        return Err(CliError::Failure(format!(
            "clock: server refused ({}): {msg}",
            resp.status
        )));
    }
    let now = v.get("now").and_then(Value::as_str).unwrap_or_default();
    let frozen = v.get("frozen").and_then(Value::as_bool).unwrap_or(false);
    printer.out(&format!("{now}{}\n", if frozen { " (frozen)" } else { "" }));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("36d"), Ok(36 * 86_400));
        assert_eq!(parse_duration("8h"), Ok(8 * 3_600));
        assert_eq!(parse_duration("1d12h"), Ok(129_600));
        assert_eq!(parse_duration("90"), Ok(90));
        assert!(parse_duration("8x").is_err());
        assert!(parse_duration("8").is_ok());
        assert!(parse_duration("d").is_err());
    }
}
