//! Operation arguments: the argument table built from the model (awscli v1
//! `awscli/clidriver.py` `ServiceOperation`, `awscli/arguments.py`, the pagination arguments of
//! `awscli/customizations/paginate.py`, `--cli-input-json` / `--generate-cli-skeleton` of
//! `awscli/customizations/cliinputjson.py` and `generatecliskeleton.py`), and an
//! argparse-compatible parser for them.

use serde_json::Value;

use crate::error::CliError;
use crate::model::{Model, members, required, shape_type, xform_name};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgKind {
    /// A model member; `list` arguments take one or more values (nargs='+').
    Member {
        member: String,
        shape: String,
        list: bool,
    },
    /// `--x` / `--no-x` for a top-level boolean member.
    Bool {
        member: String,
        value: bool,
    },
    CliInputJson,
    GenerateSkeleton,
    StartingToken,
    PageSize,
    MaxItems,
}

#[derive(Debug, Clone)]
pub struct Arg {
    /// Name without the leading `--`.
    pub name: String,
    pub kind: ArgKind,
    pub required: bool,
}

/// Values given on the command line, in argument-table order.
#[derive(Debug, Default)]
pub struct Parsed {
    pub values: Vec<(Arg, Vec<String>)>,
    pub help: bool,
}

impl Parsed {
    pub fn get(&self, kind: &ArgKind) -> Option<&Vec<String>> {
        self.values
            .iter()
            .find(|(a, _)| &a.kind == kind)
            .map(|(_, v)| v)
    }
}

/// Builds the argument table of `op` (model member order, then the customizations).
pub fn arg_table(model: &Model, op_name: &str, op: &Value) -> Vec<Arg> {
    let mut table = Vec::new();
    if let Some(input) = model.input_shape(op) {
        let req = required(input);
        for (name, mref) in members(input) {
            let Some(shape_name) = mref.get("shape").and_then(Value::as_str) else {
                continue;
            };
            let Some(shape) = model.shape(shape_name) else {
                continue;
            };
            let cli = xform_name(name, '-');
            let is_req = req.contains(&name.as_str());
            if shape_type(shape) == "boolean" {
                table.push(Arg {
                    name: cli.clone(),
                    kind: ArgKind::Bool {
                        member: name.clone(),
                        value: true,
                    },
                    required: is_req,
                });
                table.push(Arg {
                    name: format!("no-{cli}"),
                    kind: ArgKind::Bool {
                        member: name.clone(),
                        value: false,
                    },
                    required: false,
                });
            } else {
                let list = shape_type(shape) == "list";
                table.push(Arg {
                    name: cli,
                    kind: ArgKind::Member {
                        member: name.clone(),
                        shape: shape_name.to_string(),
                        list,
                    },
                    required: is_req,
                });
            }
        }
    }
    table.push(Arg {
        name: "cli-input-json".into(),
        kind: ArgKind::CliInputJson,
        required: false,
    });
    table.push(Arg {
        name: "generate-cli-skeleton".into(),
        kind: ArgKind::GenerateSkeleton,
        required: false,
    });
    if let Some(p) = model.paginator(op_name) {
        // add_paging_argument replaces an existing argument of the same name.
        let add = |table: &mut Vec<Arg>, name: &str, kind: ArgKind| {
            table.retain(|a| a.name != name);
            table.push(Arg {
                name: name.into(),
                kind,
                required: false,
            });
        };
        add(&mut table, "starting-token", ArgKind::StartingToken);
        if p.get("limit_key").is_some() {
            add(&mut table, "page-size", ArgKind::PageSize);
        }
        add(&mut table, "max-items", ArgKind::MaxItems);
    }
    table
}

/// Parses operation arguments like argparse's `parse_known_args`, then raises awscli's errors:
/// missing required arguments (exit 2) before unknown options (exit 255).
pub fn parse(table: &mut [Arg], args: &[String]) -> Result<Parsed, CliError> {
    // override_required_args: --cli-input-json, or --generate-cli-skeleton not followed by
    // `output`, make every argument optional.
    let skeleton_pos = args.iter().position(|a| a == "--generate-cli-skeleton");
    let skeleton_input =
        skeleton_pos.is_some_and(|p| args.get(p + 1).map(String::as_str) != Some("output"));
    if args.iter().any(|a| a == "--cli-input-json") || skeleton_input {
        for a in table.iter_mut() {
            a.required = false;
        }
    }
    let mut parsed = Parsed::default();
    let mut unknown: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let raw = &args[i];
        i += 1;
        if raw == "help" && args.len() == 1 {
            parsed.help = true;
            continue;
        }
        if !raw.starts_with("--") {
            unknown.push(raw.clone());
            continue;
        }
        let (name, inline) = match raw[2..].split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (raw[2..].to_string(), None),
        };
        let Some(arg) = table.iter().find(|a| a.name == name).cloned() else {
            unknown.push(raw.clone());
            continue;
        };
        let mut values = Vec::new();
        match &arg.kind {
            ArgKind::Bool { .. } => {
                if let Some(v) = inline {
                    return Err(CliError::Usage(format!(
                        "argument --{name}: ignored explicit argument '{v}'"
                    )));
                }
            }
            ArgKind::Member { list: true, .. } => {
                if let Some(v) = inline {
                    values.push(v);
                }
                while i < args.len() && !args[i].starts_with("--") {
                    values.push(args[i].clone());
                    i += 1;
                }
                if values.is_empty() {
                    return Err(CliError::Usage(format!(
                        "argument --{name}: expected at least one argument"
                    )));
                }
            }
            ArgKind::GenerateSkeleton => {
                let v = match inline {
                    Some(v) => Some(v),
                    None if i < args.len() && !args[i].starts_with("--") => {
                        i += 1;
                        Some(args[i - 1].clone())
                    }
                    None => None,
                };
                let v = v.unwrap_or_else(|| "input".to_string());
                if v != "input" && v != "output" {
                    return Err(CliError::Usage(format!(
                        "argument --generate-cli-skeleton: Invalid choice, valid choices are:\n\n{:<40} | {:<40}",
                        "input", "output"
                    )));
                }
                values.push(v);
            }
            _ => match inline {
                Some(v) => values.push(v),
                None if i < args.len() && !args[i].starts_with("--") => {
                    values.push(args[i].clone());
                    i += 1;
                }
                None => {
                    return Err(CliError::Usage(format!(
                        "argument --{name}: expected one argument"
                    )));
                }
            },
        }
        // argparse keeps the last occurrence.
        parsed.values.retain(|(a, _)| a.name != arg.name);
        parsed.values.push((arg, values));
    }
    let missing: Vec<String> = table
        .iter()
        .filter(|a| a.required && !parsed.values.iter().any(|(p, _)| p.name == a.name))
        .map(|a| format!("--{}", a.name))
        .collect();
    if !missing.is_empty() && !parsed.help {
        return Err(CliError::Usage(format!(
            "the following arguments are required: {}",
            missing.join(", ")
        )));
    }
    if !unknown.is_empty() {
        return Err(CliError::UnknownOptions(unknown.join(", ")));
    }
    // Keep argument-table order, which decides parameter order in the request.
    let order = |a: &Arg| {
        table
            .iter()
            .position(|t| t.name == a.name)
            .unwrap_or(usize::MAX)
    };
    parsed.values.sort_by_key(|(a, _)| order(a));
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn required_then_unknown() {
        let m = Model::load("dynamodb").unwrap();
        let op = m.operation("CreateBackup").unwrap();
        let mut t = arg_table(&m, "CreateBackup", op);
        let e = parse(&mut t, &s(&["--table-name", "x"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "aws: error: the following arguments are required: --backup-name"
        );
        let mut t = arg_table(&m, "CreateBackup", op);
        let e = parse(
            &mut t,
            &s(&["--table-name", "x", "--backup-name", "y", "--bogus"]),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "Unknown options: --bogus");
        assert_eq!(e.exit_code(), 255);
        let mut t = arg_table(&m, "CreateBackup", op);
        assert!(parse(&mut t, &s(&["--generate-cli-skeleton"])).is_ok());
        let mut t = arg_table(&m, "CreateBackup", op);
        assert!(parse(&mut t, &s(&["--generate-cli-skeleton", "output"])).is_err());
    }

    #[test]
    fn paging_args_and_lists() {
        let m = Model::load("dynamodb").unwrap();
        let op = m.operation("ListTables").unwrap();
        let t = arg_table(&m, "ListTables", op);
        let names: Vec<&str> = t.iter().map(|a| a.name.as_str()).collect();
        assert!(
            names.contains(&"starting-token")
                && names.contains(&"max-items")
                && names.contains(&"page-size")
        );
        let op = m.operation("BatchGetItem").unwrap();
        assert!(
            arg_table(&m, "BatchGetItem", op)
                .iter()
                .any(|a| a.name == "request-items")
        );
    }
}
