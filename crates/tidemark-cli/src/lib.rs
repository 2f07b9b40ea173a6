//! tidemark-cli: an aws-CLI-v1-compatible client for DynamoDB and Redshift, generated at run
//! time from the botocore models, plus the `clock` admin commands.
//!
//! Entry point: [`run`] (`args[0]` is `dynamodb`, `redshift` or `clock`). Flow and exit codes
//! follow awscli v1 `awscli/clidriver.py`: usage errors exit 2, all other failures 255.

pub mod admin;
pub mod args;
mod call;
pub mod clock;
pub mod completion;
pub mod config;
pub mod error;
pub mod globals;
pub mod help;
pub mod http;
pub mod model;
pub mod output;
pub mod paginate;
pub mod params;
pub mod printer;
pub mod protocol;
pub mod pyfmt;
pub mod response;
pub mod shorthand;
pub mod sigv4;
pub mod skeleton;
pub mod tls;
pub mod validate;
pub mod waiter;
pub mod xml;

use std::ffi::OsString;

pub use error::CliError;
pub use printer::{CapturePrinter, Printer, StdPrinter};

/// Version line printed by `--version`.
pub fn version_line() -> String {
    format!(
        "tidemark/{} (aws-cli/1.46.3 compatible)",
        env!("CARGO_PKG_VERSION")
    )
}

/// Runs one CLI invocation on the process's standard streams; returns the exit code.
pub fn run(args: Vec<OsString>) -> i32 {
    let mut p = StdPrinter::default();
    let code = run_with(args, &mut p);
    p.flush();
    code
}

/// Runs one CLI invocation writing through `printer` (tests capture output this way).
pub fn run_with(args: Vec<OsString>, printer: &mut dyn Printer) -> i32 {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match dispatch(&args, printer) {
        Ok(code) => code,
        Err(e) => {
            printer.err(&e.stderr_text());
            e.exit_code()
        }
    }
}

fn dispatch(args: &[String], printer: &mut dyn Printer) -> Result<i32, CliError> {
    let Some(first) = args.first() else {
        return Err(CliError::Usage(
            "the following arguments are required: command".into(),
        ));
    };
    match first.as_str() {
        "clock" => clock::run(&args[1..], printer),
        // `complete -C 'tidemark __complete' tidemark` (see completion.rs).
        "__complete" => {
            let line = match std::env::var("COMP_LINE") {
                Ok(l) => {
                    let point = std::env::var("COMP_POINT")
                        .ok()
                        .and_then(|p| p.parse::<usize>().ok())
                        .unwrap_or(l.len());
                    l.get(..point.min(l.len())).unwrap_or(&l).to_string()
                }
                Err(_) => args[1..].join(" "),
            };
            for c in completion::complete(&line) {
                printer.out(&format!("{c}\n"));
            }
            Ok(0)
        }
        "completion" => match args.get(1).and_then(|s| completion::script(s)) {
            Some(s) => {
                printer.out(&s);
                Ok(0)
            }
            None => Err(CliError::Failure(
                "usage: tidemark completion bash|zsh".into(),
            )),
        },
        "--version" => {
            printer.out(&format!("{}\n", version_line()));
            Ok(0)
        }
        s if model::SERVICES.contains(&s) => call::run_service(s, &args[1..], printer),
        other => Err(CliError::Usage(format!(
            "argument command: Invalid choice, valid choices are:\n\n{:<40} | {:<40}\nclock                                   \n\nInvalid choice: '{other}'",
            "dynamodb", "redshift"
        ))),
    }
}
