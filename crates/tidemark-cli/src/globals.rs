//! Global options of the aws CLI (`awscli/data/cli.json` as parsed by `awscli/clidriver.py`),
//! accepted anywhere after the service name, as argparse's `parse_known_args` does.

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
];

fn invalid_choice(opt: &str, choices: &[&str]) -> CliError {
    let mut lines = vec!["Invalid choice, valid choices are:\n".to_string()];
    for chunk in choices.chunks(2) {
        lines.push(
            chunk
                .iter()
                .map(|c| format!("{c:<40}"))
                .collect::<Vec<_>>()
                .join(" | "),
        );
    }
    CliError::Usage(format!("argument {opt}: {}", lines.join("\n")))
}

/// Splits `args` into global options and the rest (operation name and its arguments).
pub fn extract(args: &[String]) -> Result<(Globals, Vec<String>), CliError> {
    let mut g = Globals::default();
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let takes_value = matches!(
            name,
            "--endpoint-url"
                | "--output"
                | "--query"
                | "--profile"
                | "--region"
                | "--color"
                | "--ca-bundle"
                | "--cli-read-timeout"
                | "--cli-connect-timeout"
        );
        let is_flag = matches!(
            name,
            "--debug" | "--no-verify-ssl" | "--no-paginate" | "--version" | "--no-sign-request"
        );
        if !takes_value && !is_flag {
            rest.push(a.clone());
            i += 1;
            continue;
        }
        if is_flag {
            if inline.is_some() {
                return Err(CliError::Usage(format!(
                    "argument {name}: ignored explicit argument '{}'",
                    inline.unwrap_or_default()
                )));
            }
            match name {
                "--debug" => g.debug = true,
                "--no-verify-ssl" => g.no_verify_ssl = true,
                "--no-paginate" => g.no_paginate = true,
                "--version" => g.version = true,
                _ => g.no_sign_request = true,
            }
            i += 1;
            continue;
        }
        let value = match inline {
            Some(v) => {
                i += 1;
                v
            }
            None => match args.get(i + 1) {
                Some(v) if !v.starts_with("--") => {
                    i += 2;
                    v.clone()
                }
                _ => {
                    return Err(CliError::Usage(format!(
                        "argument {name}: expected one argument"
                    )));
                }
            },
        };
        match name {
            "--endpoint-url" => g.endpoint_url = Some(value),
            "--output" => {
                // yaml and yaml-stream are aws CLI v2 formats (v1 rejects them).
                const OUTPUTS: [&str; 5] = ["json", "text", "table", "yaml", "yaml-stream"];
                if !OUTPUTS.contains(&value.as_str()) {
                    return Err(invalid_choice("--output", &OUTPUTS));
                }
                g.output = Some(value)
            }
            "--query" => g.query = Some(value),
            "--profile" => g.profile = Some(value),
            "--region" => g.region = Some(value),
            "--color" => {
                if !["on", "off", "auto"].contains(&value.as_str()) {
                    return Err(invalid_choice("--color", &["on", "off", "auto"]));
                }
                g.color = Some(value)
            }
            "--ca-bundle" => g.ca_bundle = Some(value),
            "--cli-read-timeout" | "--cli-connect-timeout" => {
                // awscli converts these with int() after parsing: a bad value is a 255 error.
                let n = crate::pyfmt::py_int(&value).ok_or_else(|| {
                    CliError::Failure(format!("invalid literal for int() with base 10: '{value}'"))
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
    Ok((g, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn globals_anywhere() {
        let (g, rest) = extract(&s(&[
            "--output",
            "text",
            "list-tables",
            "--region=eu-west-1",
            "--limit",
            "3",
            "--debug",
        ]))
        .unwrap();
        assert_eq!(g.output.as_deref(), Some("text"));
        assert_eq!(g.region.as_deref(), Some("eu-west-1"));
        assert!(g.debug);
        assert_eq!(rest, s(&["list-tables", "--limit", "3"]));
    }

    #[test]
    fn invalid_output_choice_like_argparse() {
        let e = extract(&s(&["list-tables", "--output", "xml"])).unwrap_err();
        assert_eq!(
            e.stderr_text().lines().last().unwrap(),
            "yaml-stream                             "
        );
        let (g, _) = extract(&s(&["list-tables", "--output", "yaml"])).unwrap();
        assert_eq!(g.output.as_deref(), Some("yaml"));
        assert_eq!(e.exit_code(), 2);
    }
}
