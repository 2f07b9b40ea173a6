//! Operation arguments: the argument table built from the model (awscli v1
//! `awscli/clidriver.py` `ServiceOperation`, `awscli/arguments.py`, the pagination arguments of
//! `awscli/customizations/paginate.py`, `--cli-input-json` / `--generate-cli-skeleton` of
//! `awscli/customizations/cliinputjson.py` and `generatecliskeleton.py`), parsed by the
//! argparse model in [`crate::argparse`].

use serde_json::Value;

use crate::argparse::{self, Nargs, Opt, Positional};
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
    /// The `type=` awscli gives argparse (`CLIArgument.TYPE_MAP`): `int` for `long`, `float`
    /// for `float`/`double` members; argparse converts (and refuses) the value while parsing.
    pub py_type: Option<&'static str>,
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
                    py_type: None,
                });
                table.push(Arg {
                    name: format!("no-{cli}"),
                    kind: ArgKind::Bool {
                        member: name.clone(),
                        value: false,
                    },
                    required: false,
                    py_type: None,
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
                    py_type: match shape_type(shape) {
                        "long" => Some("int"),
                        "float" | "double" => Some("float"),
                        _ => None,
                    },
                });
            }
        }
    }
    table.push(Arg {
        name: "cli-input-json".into(),
        kind: ArgKind::CliInputJson,
        required: false,
        py_type: None,
    });
    table.push(Arg {
        name: "generate-cli-skeleton".into(),
        kind: ArgKind::GenerateSkeleton,
        required: false,
        py_type: None,
    });
    if let Some(p) = model.paginator(op_name) {
        // add_paging_argument replaces an existing argument of the same name.
        let add = |table: &mut Vec<Arg>, name: &str, kind: ArgKind| {
            table.retain(|a| a.name != name);
            table.push(Arg {
                name: name.into(),
                kind,
                required: false,
                py_type: None,
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

/// argparse's view of one argument-table entry (`awscli/arguments.py` `add_to_parser`).
fn to_opt(a: &Arg) -> Opt {
    let nargs = match &a.kind {
        // ListArgument uses nargs='*'.
        ArgKind::Member { list: true, .. } => Nargs::Any,
        ArgKind::Bool { .. } => Nargs::Zero,
        ArgKind::GenerateSkeleton => Nargs::Optional,
        _ => Nargs::One,
    };
    let mut o = Opt::new(format!("--{}", a.name), nargs);
    o.required = a.required;
    o.py_type = a.py_type;
    if a.kind == ArgKind::GenerateSkeleton {
        o.choices = Some(vec!["input".into(), "output".into()]);
    }
    o
}

/// Parses operation arguments like awscli's operation parser (`ArgTableArgParser` plus the
/// `help` positional, through [`argparse::parse_known_args`]), then raises awscli's errors:
/// argparse's own (exit 2, missing required arguments among them) before unknown options
/// (exit 255).
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
    // ArgTableArgParser.parse_known_args: a lone `help` skips argparse entirely.
    if args.len() == 1 && args[0] == "help" {
        parsed.help = true;
        return Ok(parsed);
    }
    let opts: Vec<Opt> = table.iter().map(to_opt).collect();
    let help = Positional {
        name: "help".into(),
        nargs: Nargs::Optional,
        choices: None,
    };
    let known = argparse::parse_known_args(&opts, Some(&help), args)?;
    for (idx, values) in known.opts {
        let arg = table[idx].clone();
        let values = if arg.kind == ArgKind::GenerateSkeleton && values.is_empty() {
            // const='input'
            vec!["input".to_string()]
        } else {
            values
        };
        // argparse keeps the last occurrence.
        parsed.values.retain(|(a, _)| a.name != arg.name);
        parsed.values.push((arg, values));
    }
    let mut unknown = known.extras;
    match known.positional.as_deref() {
        Some("help") => parsed.help = true,
        Some(other) => unknown.push(other.to_string()),
        None => {}
    }
    if !unknown.is_empty() && !parsed.help {
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
