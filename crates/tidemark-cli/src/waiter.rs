//! `wait <waiter> ...`: waiters from the model's `x-waiters`, a port of botocore `waiter.py`
//! (acceptors `path`, `pathAll`, `pathAny`, `status`, `error`; `delay`, `maxAttempts`) exposed
//! as awscli v1 `awscli/customizations/waiters.py` does. A progress line is shown on stderr
//! when it is a terminal.

use serde_json::Value;

use crate::args;
use crate::call::{self, Outcome};
use crate::config;
use crate::error::CliError;
use crate::globals::Globals;
use crate::model::{Model, xform_name};
use crate::params;
use crate::printer::Printer;

fn matches_path(result: &Value, argument: &str, expected: &Value, kind: &str) -> bool {
    let Ok(expr) = crate::jmespath::Expression::compile(argument) else {
        return false;
    };
    let Ok(found) = expr.search(result) else {
        return false;
    };
    match kind {
        "path" => &found == expected,
        "pathAll" => found
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|x| x == expected)),
        "pathAny" => found
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == expected)),
        _ => false,
    }
}

/// Runs `wait <name> [args]`.
pub fn run(
    model: &Model,
    g: &Globals,
    argv: &[String],
    printer: &mut dyn Printer,
) -> Result<i32, CliError> {
    let waiters = model.waiters().cloned().unwrap_or_default();
    let names: Vec<String> = waiters.keys().map(|k| xform_name(k, '-')).collect();
    let Some(cli) = argv.first() else {
        return Err(CliError::Usage(
            "the following arguments are required: subcommand".into(),
        ));
    };
    if cli == "help" {
        printer.out(&format!(
            "wait\n\nAVAILABLE WAITERS\n\n{}\n",
            names
                .iter()
                .map(|n| format!("  o {n}"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
        return Ok(0);
    }
    let Some((wname, w)) = waiters.iter().find(|(k, _)| xform_name(k, '-') == *cli) else {
        let mut choices = names.clone();
        choices.push("help".into());
        return Err(call::invalid_choice("subcommand", cli, &choices));
    };
    let op_name = w
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let op = model
        .operation(&op_name)
        .ok_or_else(|| CliError::Internal(format!("waiter operation {op_name} missing")))?;
    let mut table = args::arg_table(model, &op_name, op);
    table.retain(|a| {
        !matches!(
            a.kind,
            args::ArgKind::StartingToken | args::ArgKind::PageSize | args::ArgKind::MaxItems
        )
    });
    let parsed = args::parse(&mut table, &argv[1..])?;
    let call_params = params::build(model, &op_name, &parsed)?;
    crate::validate::validate(model, &op_name, &call_params.params).map_err(CliError::Failure)?;
    let cfg = config::resolve(g, &model.service)?;
    let delay = w.get("delay").and_then(Value::as_u64).unwrap_or(15);
    let max_attempts = w.get("maxAttempts").and_then(Value::as_u64).unwrap_or(40);
    let empty = Vec::new();
    let acceptors = w
        .get("acceptors")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let fail = |reason: String| CliError::Failure(format!("Waiter {wname} failed: {reason}"));
    let tty = printer.stderr_is_tty();
    let clear = |printer: &mut dyn Printer| {
        if tty {
            printer.err("\r\x1b[K");
        }
    };
    // botocore Waiter.wait: the state persists across attempts; after a `for` without a match
    // Python's loop variable is the last acceptor, which the max-attempts message then names.
    let mut state = "waiting";
    let mut last_matched = false;
    let mut attempt: u64 = 0;
    loop {
        attempt += 1;
        if tty {
            printer.err(&format!(
                "\rWaiting for {cli}... (attempt {attempt}/{max_attempts})"
            ));
        }
        let (outcome, dbg) =
            call::invoke_outcome(model, &op_name, &cfg, g, &call_params.params, g.debug)?;
        call::debug_lines(&dbg);
        let mut current: Option<&Value> = acceptors.last();
        let mut matched = false;
        for acc in acceptors {
            current = Some(acc);
            if acceptor_matches(acc, &outcome) {
                matched = true;
                last_matched = true;
                state = acc
                    .get("state")
                    .and_then(Value::as_str)
                    .unwrap_or("waiting");
                break;
            }
        }
        if !matched && let Outcome::ServiceError { code, message, .. } = &outcome {
            clear(printer);
            return Err(fail(format!("An error occurred ({code}): {message}")));
        }
        let explanation = current.map(explanation).unwrap_or_default();
        match state {
            "success" => {
                clear(printer);
                return Ok(0);
            }
            "failure" => {
                clear(printer);
                return Err(fail(format!(
                    "Waiter encountered a terminal failure state: {explanation}"
                )));
            }
            _ => {}
        }
        if attempt >= max_attempts {
            clear(printer);
            return Err(fail(if last_matched {
                format!("Max attempts exceeded. Previously accepted state: {explanation}")
            } else {
                "Max attempts exceeded".to_string()
            }));
        }
        std::thread::sleep(std::time::Duration::from_secs(delay));
    }
}

/// `AcceptorConfig.matcher_func` applied to one response.
fn acceptor_matches(acc: &Value, outcome: &Outcome) -> bool {
    let matcher = acc
        .get("matcher")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let expected = acc.get("expected").cloned().unwrap_or(Value::Null);
    let argument = acc
        .get("argument")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match (outcome, matcher) {
        (Outcome::Ok(_, v), "path" | "pathAll" | "pathAny") => {
            matches_path(v, argument, &expected, matcher)
        }
        (Outcome::Ok(s, _), "status") | (Outcome::ServiceError { status: s, .. }, "status") => {
            expected.as_u64() == Some(u64::from(*s))
        }
        (Outcome::ServiceError { code, .. }, "error") => match &expected {
            Value::Bool(b) => *b,
            Value::String(e) => e == code,
            _ => false,
        },
        (Outcome::Ok(..), "error") => expected == Value::Bool(false),
        _ => false,
    }
}

/// `AcceptorConfig.explanation`.
fn explanation(acc: &Value) -> String {
    let expected = crate::pyfmt::py_str(acc.get("expected").unwrap_or(&Value::Null));
    let argument = acc
        .get("argument")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match acc
        .get("matcher")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "path" => format!("For expression \"{argument}\" we matched expected path: \"{expected}\""),
        "pathAll" => format!(
            "For expression \"{argument}\" all members matched expected path: \"{expected}\""
        ),
        "pathAny" => format!(
            "For expression \"{argument}\" we matched expected path: \"{expected}\" at least once"
        ),
        "status" => format!("Matched expected HTTP status code: {expected}"),
        "error" => format!("Matched expected service error code: {expected}"),
        other => format!("No explanation for unknown waiter type: \"{other}\""),
    }
}
