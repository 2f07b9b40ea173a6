//! tidemark-cli: an aws-CLI-v1-compatible client for DynamoDB, Redshift and the Redshift Data
//! API, generated at run time from the botocore models, plus the `clock` admin commands.
//!
//! Entry point: [`run`] (`args[0]` is `clock`, `completion`, `__complete`, or a command line
//! for a service with global options anywhere, see [`is_client_invocation`]). Flow and exit codes
//! follow awscli v1 `awscli/clidriver.py`: usage errors exit 2, all other failures 255.

pub mod admin;
pub mod argparse;
pub mod args;
mod call;
pub mod clock;
pub mod completion;
pub mod config;
pub mod error;
pub mod globals;
pub mod help;
pub mod http;
pub mod jmespath;
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

/// Whether `args` (without the program name) is a client command line: one that starts
/// with a client command or with one of aws's global options (`tidemark --output text
/// dynamodb …`). The `tidemark` binary routes these here before its own parser.
pub fn is_client_invocation(args: &[OsString]) -> bool {
    let Some(first) = args.first().and_then(|a| a.to_str()) else {
        return false;
    };
    if ["clock", "completion", "__complete"].contains(&first) || model::SERVICES.contains(&first) {
        return true;
    }
    // A global option, exact, abbreviated or with `=value` (argparse accepts all three);
    // `--version` and `--help` stay with the binary's own parser.
    let name = first.split_once('=').map_or(first, |(n, _)| n);
    name.len() > 2
        && name.starts_with("--")
        && name != "--version"
        && globals::GLOBAL_OPTIONS
            .iter()
            .any(|g| *g != "--version" && g.starts_with(name))
}

fn dispatch(args: &[String], printer: &mut dyn Printer) -> Result<i32, CliError> {
    let first = args.first().map(String::as_str).unwrap_or_default();
    match first {
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
        _ => {
            let services: Vec<String> = model::SERVICES.iter().map(|s| s.to_string()).collect();
            let main = globals::parse_main(args, &services)?;
            if main.globals.version {
                printer.out(&format!("{}\n", version_line()));
                return Ok(0);
            }
            call::run_service(&main.command, main.globals, &main.rest, printer)
        }
    }
}
