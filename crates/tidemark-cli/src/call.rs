//! One service command end to end: globals, operation lookup, arguments, skeletons,
//! validation, signing, HTTP, pagination and output (awscli v1 `clidriver.py`
//! `ServiceOperation.__call__` and `CLIOperationCaller`).

use serde_json::{Map, Value};

use crate::args;
use crate::config::{self, Resolved};
use crate::error::CliError;
use crate::globals::{self, Globals};
use crate::model::{Model, xform_name};
use crate::output::{OutputCtx, Response, emit};
use crate::paginate::{self, Config as PageConfig};
use crate::printer::Printer;
use crate::{help, http, params, protocol, pyfmt, sigv4, skeleton, validate, waiter};

/// Python `difflib.get_close_matches(word, choices, n=3, cutoff)`.
pub fn close_matches(word: &str, choices: &[String], cutoff: f64) -> Vec<String> {
    fn longest(
        a: &[char],
        b: &[char],
        alo: usize,
        ahi: usize,
        blo: usize,
        bhi: usize,
    ) -> (usize, usize, usize) {
        let (mut bi, mut bj, mut bk) = (alo, blo, 0);
        for i in alo..ahi {
            for j in blo..bhi {
                let mut k = 0;
                while i + k < ahi && j + k < bhi && a[i + k] == b[j + k] {
                    k += 1;
                }
                if k > bk {
                    (bi, bj, bk) = (i, j, k);
                }
            }
        }
        (bi, bj, bk)
    }
    fn matches(a: &[char], b: &[char], alo: usize, ahi: usize, blo: usize, bhi: usize) -> usize {
        let (i, j, k) = longest(a, b, alo, ahi, blo, bhi);
        if k == 0 {
            return 0;
        }
        k + matches(a, b, alo, i, blo, j) + matches(a, b, i + k, ahi, j + k, bhi)
    }
    let w: Vec<char> = word.chars().collect();
    let mut scored: Vec<(f64, String)> = choices
        .iter()
        .filter_map(|c| {
            let x: Vec<char> = c.chars().collect();
            let m = matches(&x, &w, 0, x.len(), 0, w.len());
            let ratio = 2.0 * m as f64 / (x.len() + w.len()).max(1) as f64;
            (ratio >= cutoff).then(|| (ratio, c.clone()))
        })
        .collect();
    scored.sort_by(|a, b| {
        b.0.partial_cmp(&a.0)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.1.cmp(&a.1))
    });
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// argparse's invalid-choice message (awscli `argparser.py` `_check_value`).
pub fn invalid_choice(arg: &str, value: &str, choices: &[String]) -> CliError {
    let mut msg = vec!["Invalid choice, valid choices are:\n".to_string()];
    for chunk in choices.chunks(2) {
        msg.push(
            chunk
                .iter()
                .map(|c| format!("{c:<40}"))
                .collect::<Vec<_>>()
                .join(" | "),
        );
    }
    let possible = close_matches(value, choices, 0.8);
    if !possible.is_empty() {
        msg.push(format!("\n\nInvalid choice: '{value}', maybe you meant:\n"));
        for p in possible {
            msg.push(format!("  * {p}"));
        }
    }
    CliError::Usage(format!("argument {arg}: {}", msg.join("\n")))
}

/// Runs one service command; `g` and `rest` come from the main parser
/// ([`globals::parse_main`]), `rest` holding the operation and its arguments.
pub fn run_service(
    service: &str,
    g: Globals,
    rest: &[String],
    printer: &mut dyn Printer,
) -> Result<i32, CliError> {
    // awscli `globalargs._resolve_query` runs on the top-level arguments, before the
    // operation is even looked up; compile errors are prefixed with the value.
    let query = match &g.query {
        Some(q) => Some(
            crate::jmespath::Expression::compile(q)
                .map_err(|e| CliError::Failure(format!("Bad value for --query {q}: {e}")))?,
        ),
        None => None,
    };
    let model = Model::load(service)?;
    let mut choices: Vec<String> = model
        .operation_names()
        .map(|n| xform_name(n, '-'))
        .collect();
    choices.sort();
    if model.waiters().is_some_and(|w| !w.is_empty()) {
        choices.push("wait".into());
    }
    choices.push("help".into());
    let (cli_op, rest) = globals::parse_service(rest, &choices)?;
    match cli_op.as_str() {
        "help" => {
            printer.out(&help::service_help(&model));
            return Ok(0);
        }
        "wait" => return waiter::run(&model, &g, &rest, printer),
        _ => {}
    }
    let Some((op_name, op)) = model.operation_by_cli_name(&cli_op) else {
        return Err(invalid_choice("operation", &cli_op, &choices));
    };
    let mut table = args::arg_table(&model, &op_name, op);
    let parsed = args::parse(&mut table, &rest)?;
    if parsed.help {
        printer.out(&help::operation_help(&model, &op_name, &table));
        return Ok(0);
    }
    let call = params::build(&model, &op_name, &parsed)?;
    let paginator = model.paginator(&op_name);
    let paginate_on = paginator.is_some() && !g.no_paginate && !call.manual_paging;
    if paginator.is_some() && !paginate_on {
        let mut used = Vec::new();
        for (name, set) in [
            ("--starting-token", call.starting_token.is_some()),
            ("--page-size", call.page_size.is_some_and(|v| v != 0)),
            ("--max-items", call.max_items.is_some_and(|v| v != 0)),
        ] {
            if set {
                used.push(name);
            }
        }
        if !used.is_empty() {
            return Err(CliError::Failure(format!(
                "Error during pagination: Cannot specify --no-paginate along with pagination arguments: {}",
                used.join(", ")
            )));
        }
    }
    let cfg = config::resolve(&g, service)?;
    // awscli reads the profile before the skeleton handler runs (an unknown profile fails).
    if call.skeleton.as_deref() == Some("input") {
        let shape = op
            .get("input")
            .and_then(|i| i.get("shape"))
            .and_then(Value::as_str);
        let sk = shape
            .map(|s| skeleton::generate(&model, s, false))
            .unwrap_or(Value::Object(Map::new()));
        printer.out(&format!("{}\n", pyfmt::json_dumps(&sk)));
        return Ok(0);
    }
    let out_ctx = OutputCtx {
        output: cfg.output.clone(),
        query: query.as_ref(),
        color: color_on(&g, printer),
        op_name: &op_name,
    };
    if call.skeleton.is_some() {
        let shape = op
            .get("output")
            .and_then(|i| i.get("shape"))
            .and_then(Value::as_str);
        let time = if cfg.output == "json" {
            "1970-01-01T00:00:00"
        } else {
            "1970-01-01 00:00:00"
        };
        let sk = shape
            .map(|s| skeleton::generate_with_time(&model, s, true, time))
            .unwrap_or(Value::Object(Map::new()));
        // Stubber.add_response validates the fake response against the output shape first;
        // where aws's sample breaks the model's limits (aws fails there), print a fitted one.
        let out_shape = model
            .operation(&op_name)
            .and_then(|o| model.output_shape(o));
        let fits = |v: &Value| match (out_shape, v) {
            (Some(s), Value::Object(m)) => validate::validate_shape(&model, s, m),
            _ => Ok(()),
        };
        let sk = match fits(&sk) {
            Ok(()) => sk,
            Err(first) => {
                let fitted = shape
                    .map(|s| skeleton::generate_fitted(&model, s, time))
                    .unwrap_or(Value::Object(Map::new()));
                // The fitted sample is built to pass; if it did not, aws's error stands.
                fits(&fitted).map_err(|_| CliError::Failure(first))?;
                fitted
            }
        };
        validate::validate(&model, &op_name, &call.params).map_err(CliError::Failure)?;
        emit(printer, &out_ctx, Response::Single(sk))?;
        return Ok(0);
    }
    if cfg.param_validation {
        validate::validate(&model, &op_name, &call.params).map_err(CliError::Failure)?;
    }
    let do_call = |p: &Map<String, Value>| invoke(&model, &op_name, &cfg, &g, p, printer_debug(&g));
    let response = if paginate_on {
        let pc = PageConfig::from_model(paginator.unwrap_or(&Value::Null));
        let paged = paginate::paginate(
            &pc,
            call.params.clone(),
            call.starting_token.as_deref(),
            call.page_size,
            call.max_items,
            &mut |p| {
                do_call(p).map(|(v, dbg)| {
                    debug_lines(&dbg);
                    v
                })
            },
        )?;
        Response::Paged(pc, paged)
    } else {
        let (v, dbg) = do_call(&call.params)?;
        debug_lines(&dbg);
        Response::Single(v)
    };
    emit(printer, &out_ctx, response)?;
    Ok(0)
}

fn printer_debug(g: &Globals) -> bool {
    g.debug
}

pub fn debug_lines(lines: &[String]) {
    use std::io::Write;
    let mut e = std::io::stderr().lock();
    for l in lines {
        let _ = writeln!(e, "{l}");
    }
}

fn color_on(g: &Globals, printer: &dyn Printer) -> bool {
    match g.color.as_deref() {
        Some("on") => true,
        Some("off") => false,
        _ => printer.stdout_is_tty(),
    }
}

/// Performs one signed request; returns the outcome and `--debug` lines.
pub fn invoke_outcome(
    model: &Model,
    op_name: &str,
    cfg: &Resolved,
    g: &Globals,
    params: &Map<String, Value>,
    debug: bool,
) -> Result<(Outcome, Vec<String>), CliError> {
    // botocore legacy retry mode (`data/_retry.json`): DynamoDB 10 attempts with a 50 ms
    // exponential base; other services 5 attempts with a random base.
    let dynamodb = model.service == "dynamodb";
    let max_attempts: u32 = if dynamodb { 10 } else { 5 };
    let mut all_dbg = Vec::new();
    let mut attempt: u32 = 1;
    loop {
        let (outcome, dbg) = invoke_once(model, op_name, cfg, g, params, debug)?;
        all_dbg.extend(dbg);
        let retry = match &outcome {
            Outcome::ServiceError { status, code, .. } => retryable(dynamodb, *status, code),
            Outcome::Ok(..) => false,
        };
        if !retry || attempt >= max_attempts {
            let outcome = match outcome {
                Outcome::ServiceError {
                    status,
                    code,
                    message,
                    ..
                } => Outcome::ServiceError {
                    status,
                    code,
                    message,
                    retries: attempt - 1,
                },
                ok => ok,
            };
            return Ok((outcome, all_dbg));
        }
        let base = if dynamodb {
            0.05
        } else {
            // Jitter without a random-number crate: the sub-second part of the wall clock.
            f64::from(tidemark_core::wall_now().subsec_nanosecond().unsigned_abs() % 1000) / 1000.0
        };
        std::thread::sleep(std::time::Duration::from_secs_f64(
            base * f64::from(1u32 << (attempt - 1)),
        ));
        attempt += 1;
    }
}

/// Whether botocore's legacy retry policies retry this error response.
fn retryable(dynamodb: bool, status: u16, code: &str) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504 | 509)
        || (status == 400
            && matches!(
                code,
                "Throttling"
                    | "ThrottlingException"
                    | "ThrottledException"
                    | "RequestThrottledException"
                    | "ProvisionedThroughputExceededException"
            ))
        || (dynamodb && status == 409 && code == "ReplicatedWriteConflictException")
        || (dynamodb && status == 400 && code == "TransactionInProgressException")
}

fn invoke_once(
    model: &Model,
    op_name: &str,
    cfg: &Resolved,
    _g: &Globals,
    params: &Map<String, Value>,
    debug: bool,
) -> Result<(Outcome, Vec<String>), CliError> {
    let mut dbg = Vec::new();
    let wire = protocol::encode(model, op_name, params);
    let url = http::parse_url(&cfg.endpoint)
        .ok_or_else(|| CliError::Failure(format!("Invalid endpoint: {}", cfg.endpoint)))?;
    let mut headers = wire.headers.clone();
    headers.insert(
        0,
        (
            "User-Agent".into(),
            format!("aws-cli/1.46.3 tidemark/{}", env!("CARGO_PKG_VERSION")),
        ),
    );
    if cfg.sign {
        let (Some(ak), Some(sk)) = (&cfg.access_key, &cfg.secret_key) else {
            return Err(CliError::Failure(
                "Unable to locate credentials. You can configure credentials by running \"aws configure\".".into(),
            ));
        };
        let signing_name = model
            .metadata("signingName")
            .or(model.metadata("endpointPrefix"))
            .unwrap_or(&model.service);
        let added = sigv4::sign(
            &sigv4::SignInput {
                access_key: ak,
                secret_key: sk,
                session_token: cfg.session_token.as_deref(),
                region: &cfg.region,
                service: signing_name,
                time: tidemark_core::wall_now(),
                scheme: &url.scheme,
                host: &url.netloc,
                path: &url.path,
                body: &wire.body,
            },
            &wire.headers,
        )
        .map_err(|e| CliError::Failure(e.to_string()))?;
        headers.extend(added);
    }
    let shown_url = format!("{}://{}{}", url.scheme, url.netloc, url.path);
    if debug {
        dbg.push(format!(
            "DEBUG - Making request for OperationModel(name={op_name}) with params: url={shown_url}"
        ));
        for (k, v) in &headers {
            let v = match k.as_str() {
                "Authorization" => v
                    .split(", Signature=")
                    .next()
                    .map(|s| format!("{s}, Signature=<redacted>"))
                    .unwrap_or_default(),
                "X-Amz-Security-Token" => "<redacted>".to_string(),
                _ => v.clone(),
            };
            dbg.push(format!("DEBUG - request header {k}: {v}"));
        }
        dbg.push(format!(
            "DEBUG - request body: {}",
            String::from_utf8_lossy(&wire.body)
        ));
    }
    let opts = http::Options {
        connect_timeout: cfg.connect_timeout,
        read_timeout: cfg.read_timeout,
        tls: crate::tls::TlsOptions {
            verify: cfg.verify_ssl,
            ca_bundle: cfg.ca_bundle.clone(),
        },
    };
    let resp = http::request("POST", &url, &headers, &wire.body, &opts).map_err(|e| match e {
        http::HttpError::Connect => CliError::Failure(format!(
            "Could not connect to the endpoint URL: \"{shown_url}\""
        )),
        http::HttpError::ConnectTimeout => {
            CliError::Failure(format!("Connect timeout on endpoint URL: \"{shown_url}\""))
        }
        http::HttpError::ReadTimeout => {
            CliError::Failure(format!("Read timeout on endpoint URL: \"{shown_url}\""))
        }
        http::HttpError::Tls(m) => {
            CliError::Failure(format!("SSL validation failed for {shown_url} {m}"))
        }
        http::HttpError::Unsupported(m) | http::HttpError::Protocol(m) => CliError::Failure(m),
    })?;
    if debug {
        dbg.push(format!("DEBUG - Response headers: status {}", resp.status));
        for (k, v) in &resp.headers {
            dbg.push(format!("DEBUG - response header {k}: {v}"));
        }
        dbg.push(format!(
            "DEBUG - Response body: {}",
            String::from_utf8_lossy(&resp.body)
        ));
    }
    if resp.status >= 300 {
        let e = crate::response::decode_error(model, resp.status, &resp.body);
        return Ok((
            Outcome::ServiceError {
                retries: 0,
                status: resp.status,
                code: e.code,
                message: e.message,
            },
            dbg,
        ));
    }
    let v = crate::response::decode(model, op_name, &resp.body).map_err(CliError::Failure)?;
    Ok((Outcome::Ok(resp.status, v), dbg))
}

/// The result of one HTTP exchange.
pub enum Outcome {
    Ok(u16, Value),
    ServiceError {
        status: u16,
        code: String,
        message: String,
        /// Retries botocore's retry policy made before giving up.
        retries: u32,
    },
}

/// Performs one signed request; a service error becomes awscli's `ClientError` message.
pub fn invoke(
    model: &Model,
    op_name: &str,
    cfg: &Resolved,
    g: &Globals,
    params: &Map<String, Value>,
    debug: bool,
) -> Result<(Value, Vec<String>), CliError> {
    let (outcome, dbg) = invoke_outcome(model, op_name, cfg, g, params, debug)?;
    match outcome {
        Outcome::Ok(_, v) => Ok((v, dbg)),
        Outcome::ServiceError {
            code,
            message,
            retries,
            ..
        } => {
            debug_lines(&dbg);
            // botocore ClientError: retries show as "(reached max retries: N)".
            let retry_info = if retries > 0 {
                format!(" (reached max retries: {retries})")
            } else {
                String::new()
            };
            Err(CliError::Failure(format!(
                "An error occurred ({code}) when calling the {op_name} operation{retry_info}: {message}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difflib_close_matches() {
        let choices: Vec<String> = ["list-tables", "list-backups", "list-tags-of-resource"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            close_matches("list-tablez", &choices, 0.8),
            vec!["list-tables".to_string()]
        );
        assert!(close_matches("zzz", &choices, 0.8).is_empty());
    }
}
