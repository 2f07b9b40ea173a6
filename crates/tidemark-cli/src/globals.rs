//! Global options of the aws CLI (`awscli/data/cli.json` as parsed by `awscli/clidriver.py`):
//! the main parser and the service parser, run through [`crate::argparse`] as awscli runs them.

use crate::argparse::{self, Nargs, Opt, Positional};
use crate::error::CliError;

#[derive(Debug, Clone, Default)]
pub struct Globals {
    pub debug: bool,
    pub endpoint_url: Option<String>,
    pub no_verify_ssl: bool,
    pub no_paginate: bool,
    pub output: Option<String>,
    pub query: Option<String>,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub version: bool,
    pub color: Option<String>,
    pub no_sign_request: bool,
    pub ca_bundle: Option<String>,
    pub cli_read_timeout: Option<i64>,
    pub cli_connect_timeout: Option<i64>,
    /// `--v2-debug`: accepted; tidemark has no v1-to-v2 migration warnings to print.
    pub v2_debug: bool,
}

/// Global option names in `aws help` order (used by completion and help).
pub const GLOBAL_OPTIONS: &[&str] = &[
    "--debug",
    "--endpoint-url",
    "--no-verify-ssl",
    "--no-paginate",
    "--output",
    "--query",
    "--profile",
    "--region",
    "--version",
    "--color",
    "--no-sign-request",
    "--ca-bundle",
    "--cli-read-timeout",
    "--cli-connect-timeout",
    "--v2-debug",
];

/// `--output` choices of aws CLI v1.
const OUTPUTS: [&str; 3] = ["json", "text", "table"];
/// aws CLI v2 formats that v1 refuses; tidemark accepts them as an extension
/// (docs/compatibility.md) while a wrong value still gets v1's exact error.
const OUTPUTS_V2: [&str; 2] = ["yaml", "yaml-stream"];

/// The main parser's options in the order argparse registers them: `awscli/data/cli.json`
/// order, with `--version` moved last because `MainArgParser._build` adds it again and the
/// `resolve` conflict handler re-inserts it (the order shows in "ambiguous option" errors).
fn main_options() -> Vec<Opt> {
    let mut opts: Vec<Opt> = GLOBAL_OPTIONS
        .iter()
        .filter(|n| **n != "--version")
        .map(|&n| {
            let nargs = if FLAGS.contains(&n) {
                Nargs::Zero
            } else {
                Nargs::One
            };
            let mut o = Opt::new(n, nargs);
            if n == "--output" {
                o.also_accepts = OUTPUTS_V2.iter().map(|s| s.to_string()).collect();
            }
            o.choices = match n {
                "--output" => Some(OUTPUTS.iter().map(|s| s.to_string()).collect()),
                "--color" => Some(["on", "off", "auto"].map(String::from).to_vec()),
                _ => None,
            };
            o
        })
        .collect();
    let mut version = Opt::new("--version", Nargs::Zero);
    version.immediate = true;
    opts.push(version);
    opts
}

const FLAGS: &[&str] = &[
    "--debug",
    "--no-verify-ssl",
    "--no-paginate",
    "--no-sign-request",
    "--v2-debug",
];

/// What aws CLI v1's main parser makes of a command line.
#[derive(Debug)]
pub struct MainArgs {
    pub globals: Globals,
    /// The service (argparse's `command` positional); empty when `--version` stopped parsing.
    pub command: String,
    /// Everything else, in argparse's order, for the service and operation parsers.
    pub rest: Vec<String>,
}

/// Runs the main parser (`MainArgParser.parse_known_args`) over the whole command line:
/// global options are taken wherever they stand (before the service, between service and
/// operation, among the operation's arguments), abbreviated or with `=value`, exactly as
/// argparse does; `commands` are the valid services.
pub fn parse_main(args: &[String], commands: &[String]) -> Result<MainArgs, CliError> {
    let opts = main_options();
    let command = Positional {
        name: "command".into(),
        nargs: Nargs::One,
        choices: Some(commands.to_vec()),
    };
    let parsed = argparse::parse_known_args(&opts, Some(&command), args)?;
    let mut g = Globals::default();
    if parsed.stopped_by.is_some() {
        g.version = true;
        return Ok(MainArgs {
            globals: g,
            command: String::new(),
            rest: Vec::new(),
        });
    }
    for (idx, values) in &parsed.opts {
        let value = values.first().cloned().unwrap_or_default();
        match opts[*idx].name.as_str() {
            "--debug" => g.debug = true,
            "--no-verify-ssl" => g.no_verify_ssl = true,
            "--no-paginate" => g.no_paginate = true,
            "--no-sign-request" => g.no_sign_request = true,
            "--v2-debug" => g.v2_debug = true,
            "--endpoint-url" => g.endpoint_url = Some(value),
            "--output" => g.output = Some(value),
            "--query" => g.query = Some(value),
            "--profile" => g.profile = Some(value),
            "--region" => g.region = Some(value),
            "--color" => g.color = Some(value),
            "--ca-bundle" => g.ca_bundle = Some(value),
            name @ ("--cli-read-timeout" | "--cli-connect-timeout") => {
                // awscli converts these with int() after parsing: a bad value is a 255 error.
                let n = crate::pyfmt::py_int(&value).ok_or_else(|| {
                    CliError::Failure(format!(
                        "invalid literal for int() with base 10: {}",
                        crate::pyfmt::str_repr(&value)
                    ))
                })?;
                if name == "--cli-read-timeout" {
                    g.cli_read_timeout = Some(n)
                } else {
                    g.cli_connect_timeout = Some(n)
                }
            }
            _ => {}
        }
    }
    Ok(MainArgs {
        globals: g,
        command: parsed.positional.unwrap_or_default(),
        rest: parsed.extras,
    })
}

/// Runs the service parser (`ServiceArgParser`: one `operation` positional, no options) over
/// what the main parser left; returns the operation and the rest.
pub fn parse_service(
    rest: &[String],
    operations: &[String],
) -> Result<(String, Vec<String>), CliError> {
    let op = Positional {
        name: "operation".into(),
        nargs: Nargs::One,
        choices: Some(operations.to_vec()),
    };
    let parsed = argparse::parse_known_args(&[], Some(&op), rest)?;
    Ok((parsed.positional.unwrap_or_default(), parsed.extras))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn services() -> Vec<String> {
        s(&["dynamodb", "redshift"])
    }

    #[test]
    fn globals_before_between_and_after() {
        let m = parse_main(
            &s(&[
                "--output",
                "text",
                "dynamodb",
                "--reg=eu-west-1",
                "list-tables",
                "--limit",
                "3",
                "--debug",
            ]),
            &services(),
        )
        .unwrap();
        assert_eq!(m.command, "dynamodb");
        assert_eq!(m.globals.output.as_deref(), Some("text"));
        assert_eq!(m.globals.region.as_deref(), Some("eu-west-1"));
        assert!(m.globals.debug);
        assert_eq!(m.rest, s(&["list-tables", "--limit", "3"]));
        let (op, rest) = parse_service(&m.rest, &s(&["list-tables"])).unwrap();
        assert_eq!((op.as_str(), rest), ("list-tables", s(&["--limit", "3"])));
    }

    #[test]
    fn invalid_output_choice_like_argparse() {
        let e = parse_main(
            &s(&["dynamodb", "list-tables", "--output", "xml"]),
            &services(),
        )
        .unwrap_err();
        assert_eq!(
            e.stderr_text().lines().last().unwrap(),
            "table                                   "
        );
        assert_eq!(e.exit_code(), 2);
        let m = parse_main(
            &s(&["dynamodb", "list-tables", "--output", "yaml"]),
            &services(),
        );
        assert_eq!(m.unwrap().globals.output.as_deref(), Some("yaml"));
    }

    #[test]
    fn version_stops_parsing_and_timeouts_are_ints() {
        let m = parse_main(&s(&["dynamodb", "--version", "--output"]), &services()).unwrap();
        assert!(m.globals.version);
        let e = parse_main(
            &s(&["dynamodb", "x", "--cli-read-timeout", "ab"]),
            &services(),
        );
        assert_eq!(e.unwrap_err().exit_code(), 255);
    }
}
