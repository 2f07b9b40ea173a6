//! Turns parsed command-line values into API parameters: `file://`/`fileb://` loading
//! (awscli v1 `awscli/paramfile.py`), shorthand vs JSON vs scalar unpacking
//! (`awscli/argprocess.py` `ParamShorthandParser`, `unpack_cli_arg`), and `--cli-input-json`
//! merging where command-line values win (`awscli/customizations/cliinputjson.py`).

use base64::Engine;
use serde_json::{Map, Value};

use crate::args::{ArgKind, Parsed};
use crate::error::CliError;
use crate::model::{Model, members, shape_type};
use crate::shorthand;

/// Marker key for raw bytes from `fileb://` that are not valid UTF-8 (base64 inside).
pub const BLOB_MARKER: &str = "__tidemark_blob_base64__";

/// Expands `~` and `$VAR` in a paramfile path (`os.path.expanduser` + `expandvars`).
fn expand_path(p: &str) -> String {
    let mut s = p.to_string();
    if (s == "~" || s.starts_with("~/")) && std::env::var("HOME").is_ok() {
        s = format!("{}{}", std::env::var("HOME").unwrap_or_default(), &s[1..]);
    }
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '$' {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let name: String = chars[start..j].iter().collect();
            if let (false, Ok(v)) = (name.is_empty(), std::env::var(&name)) {
                out.push_str(&v);
                i = j;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Loaded paramfile content: text or raw bytes.
pub enum Loaded {
    Text(String),
    Bytes(Vec<u8>),
}

/// `get_paramfile(value, LOCAL_PREFIX_MAP)`; `Ok(None)` if `value` is not a paramfile URI.
pub fn get_paramfile(value: &str) -> Result<Option<Loaded>, String> {
    let (prefix, binary) = if value.starts_with("fileb://") {
        ("fileb://", true)
    } else if value.starts_with("file://") {
        ("file://", false)
    } else {
        return Ok(None);
    };
    let path = expand_path(&value[prefix.len()..]);
    let bytes = std::fs::read(&path).map_err(|e| {
        let msg = match e.kind() {
            std::io::ErrorKind::NotFound => {
                format!("[Errno 2] No such file or directory: '{path}'")
            }
            std::io::ErrorKind::PermissionDenied => {
                format!("[Errno 13] Permission denied: '{path}'")
            }
            _ => e.to_string(),
        };
        format!("Unable to load paramfile {value}: {msg}")
    })?;
    if binary {
        return Ok(Some(Loaded::Bytes(bytes)));
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok(Some(Loaded::Text(s))),
        Err(_) => Err(format!(
            "Unable to load paramfile ({path}), text contents could not be decoded.  If this is a binary file, please use the fileb:// prefix instead of the file:// prefix."
        )),
    }
}

fn bytes_value(b: Vec<u8>) -> Value {
    match String::from_utf8(b) {
        Ok(s) => Value::String(s),
        Err(e) => {
            let mut m = Map::new();
            m.insert(
                BLOB_MARKER.into(),
                Value::String(base64::engine::general_purpose::STANDARD.encode(e.into_bytes())),
            );
            Value::Object(m)
        }
    }
}

fn load_value(cli: &str, v: &str) -> Result<Option<Value>, CliError> {
    match get_paramfile(v).map_err(|m| CliError::param(cli, m))? {
        None => Ok(None),
        Some(Loaded::Text(s)) => Ok(Some(Value::String(s))),
        Some(Loaded::Bytes(b)) => Ok(Some(bytes_value(b))),
    }
}

fn json_loads(cli: &str, text: &str) -> Result<Value, CliError> {
    serde_json::from_str(text)
        .map_err(|e| CliError::param(cli, format!("Invalid JSON: {e}\nJSON received: {text}")))
}

fn is_complex(model: &Model, shape: &Value) -> bool {
    match shape_type(shape) {
        "structure" | "map" => true,
        "list" => shape
            .get("member")
            .and_then(|m| model.resolve(m))
            .is_some_and(|m| matches!(shape_type(m), "structure" | "list" | "map")),
        _ => false,
    }
}

/// `unpack_scalar_cli_arg`: Python `int()`/`float()`; any other text stays a string.
fn unpack_scalar(t: &str, v: &str) -> Result<Value, CliError> {
    match t {
        "integer" | "long" => crate::pyfmt::py_int(v).map(Value::from).ok_or_else(|| {
            CliError::Failure(format!("invalid literal for int() with base 10: '{v}'"))
        }),
        "float" | "double" => crate::pyfmt::py_float(v)
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| CliError::Failure(format!("could not convert string to float: '{v}'"))),
        "boolean" => Ok(Value::Bool(
            !v.eq_ignore_ascii_case("false") && !v.is_empty(),
        )),
        _ => Ok(Value::String(v.to_string())),
    }
}

/// Unpacks one member argument (`process-cli-arg` then `unpack_cli_arg`).
fn unpack_member(
    model: &Model,
    cli: &str,
    shape: &Value,
    raw: &[String],
    list: bool,
) -> Result<Value, CliError> {
    // A list argument given with no values (argparse nargs='*') is an empty list.
    if list && raw.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    // load-cli-arg: paramfiles are resolved for single string values only.
    let loaded: Option<Value> = if !list || raw.len() == 1 {
        load_value(cli, &raw[0])?
    } else {
        None
    };
    if let Some(Value::Object(m)) = &loaded
        && m.contains_key(BLOB_MARKER)
    {
        return Ok(Value::Object(m.clone()));
    }
    let texts: Vec<String> = match &loaded {
        Some(Value::String(s)) => vec![s.clone()],
        _ => raw.to_vec(),
    };
    let first = texts.first().cloned().unwrap_or_default();
    let looks_json = first.trim_start().starts_with('[') || first.trim_start().starts_with('{');
    let t = shape_type(shape);
    if is_complex(model, shape) && !looks_json {
        // ParamShorthandParser._handle_special_cases: {"Value": x} structures.
        let one_value = t == "structure"
            && members(shape).count() == 1
            && shape
                .get("members")
                .and_then(|m| m.get("Value"))
                .and_then(|r| model.resolve(r))
                .is_some_and(|s| shape_type(s) == "string")
            && !first.contains('=');
        if one_value {
            return Ok(serde_json::json!({ "Value": first }));
        }
        let mut parsed = if t == "list" {
            let items = texts
                .iter()
                .map(|v| shorthand::parse(v))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| CliError::param(cli, e))?;
            Value::Array(items)
        } else {
            shorthand::parse(&first).map_err(|e| CliError::param(cli, e))?
        };
        shorthand::back_compat(model, shape, &mut parsed).map_err(|e| CliError::param(cli, e))?;
        return Ok(parsed);
    }
    match t {
        "structure" | "map" => {
            if first.trim_start().starts_with('{') {
                json_loads(cli, &first)
            } else {
                Err(CliError::param(cli, format!("Invalid JSON:\n{first}")))
            }
        }
        "list" => {
            if texts.len() == 1 && first.trim_start().starts_with('[') {
                return json_loads(cli, &first);
            }
            let member = shape
                .get("member")
                .and_then(|m| model.resolve(m))
                .map(shape_type)
                .unwrap_or("string");
            texts
                .iter()
                .map(|v| unpack_scalar(member, v))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        other => unpack_scalar(other, &first),
    }
}

/// What the command should do after argument processing.
pub struct CallParams {
    pub params: Map<String, Value>,
    /// `--starting-token`, `--page-size`, `--max-items`.
    pub starting_token: Option<String>,
    pub page_size: Option<i64>,
    pub max_items: Option<i64>,
    /// `Some("input"|"output")` for `--generate-cli-skeleton`.
    pub skeleton: Option<String>,
    /// A paging argument of the operation itself was given (turns pagination off).
    pub manual_paging: bool,
}

/// Builds the call parameters from parsed arguments.
pub fn build(model: &Model, op_name: &str, parsed: &Parsed) -> Result<CallParams, CliError> {
    let mut out = CallParams {
        params: Map::new(),
        starting_token: None,
        page_size: None,
        max_items: None,
        skeleton: None,
        manual_paging: false,
    };
    let paging_inputs: Vec<String> = model
        .paginator(op_name)
        .map(|p| {
            let mut v: Vec<String> = match p.get("input_token") {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect(),
                Some(Value::String(s)) => vec![s.clone()],
                _ => vec![],
            };
            if let Some(l) = p.get("limit_key").and_then(Value::as_str) {
                v.push(l.to_string());
            }
            v
        })
        .unwrap_or_default();
    let mut cli_input: Option<Value> = None;
    for (arg, raw) in &parsed.values {
        let cli = format!("--{}", arg.name);
        match &arg.kind {
            ArgKind::Member {
                member,
                shape,
                list,
            } => {
                let shape = model
                    .shape(shape)
                    .ok_or_else(|| CliError::Internal(format!("unknown shape {shape}")))?;
                let v = unpack_member(model, &cli, shape, raw, *list)?;
                if paging_inputs.contains(member) {
                    out.manual_paging = true;
                }
                out.params.insert(member.clone(), v);
            }
            ArgKind::Bool { member, value } => {
                out.params.insert(member.clone(), Value::Bool(*value));
            }
            ArgKind::CliInputJson => {
                let text = match get_paramfile(&raw[0]).map_err(|m| CliError::param(&cli, m))? {
                    Some(Loaded::Text(s)) => s,
                    Some(Loaded::Bytes(b)) => String::from_utf8_lossy(&b).into_owned(),
                    None => raw[0].clone(),
                };
                cli_input = Some(serde_json::from_str(&text).map_err(|e| {
                    CliError::param(
                        "cli-input-json",
                        format!("Invalid JSON: {e}\nJSON received: {text}"),
                    )
                })?);
            }
            ArgKind::GenerateSkeleton => out.skeleton = raw.first().cloned(),
            ArgKind::StartingToken => out.starting_token = raw.first().cloned(),
            ArgKind::PageSize => {
                out.page_size = Some(unpack_scalar("integer", &raw[0])?.as_i64().unwrap_or(0))
            }
            ArgKind::MaxItems => {
                out.max_items = Some(unpack_scalar("integer", &raw[0])?.as_i64().unwrap_or(0))
            }
        }
    }
    if let Some(input) = cli_input {
        let Value::Object(obj) = input else {
            return Err(CliError::Failure("Invalid JSON received.".into()));
        };
        // _update_call_parameters: command-line values win; JSON keys fill in the rest.
        for (k, v) in obj {
            if !out.params.contains_key(&k) {
                out.params.insert(k, v);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{arg_table, parse};

    fn run(op: &str, argv: &[&str]) -> Result<CallParams, CliError> {
        let m = Model::load("dynamodb").unwrap();
        let o = m.operation(op).unwrap();
        let mut t = arg_table(&m, op, o);
        let p = parse(
            &mut t,
            &argv.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )?;
        build(&m, op, &p)
    }

    #[test]
    fn shorthand_and_json_arguments() {
        let c = run(
            "TagResource",
            &[
                "--resource-arn",
                "a",
                "--tags",
                "Key=k,Value=v",
                "Key=k2,Value=v2",
            ],
        )
        .unwrap();
        assert_eq!(
            c.params["Tags"],
            serde_json::json!([{"Key": "k", "Value": "v"}, {"Key": "k2", "Value": "v2"}])
        );
        let c = run(
            "UpdateContinuousBackups",
            &[
                "--table-name",
                "t",
                "--point-in-time-recovery-specification",
                "PointInTimeRecoveryEnabled=true",
            ],
        )
        .unwrap();
        assert_eq!(
            c.params["PointInTimeRecoverySpecification"],
            serde_json::json!({"PointInTimeRecoveryEnabled": true})
        );
        let c = run("ListTables", &["--limit", "5"]).unwrap();
        assert_eq!(c.params["Limit"], serde_json::json!(5));
        assert!(c.manual_paging);
        let c = run(
            "GetItem",
            &["--table-name", "t", "--key", "{\"id\": {\"S\": \"1\"}}"],
        )
        .unwrap();
        assert_eq!(c.params["Key"], serde_json::json!({"id": {"S": "1"}}));
    }

    #[test]
    fn cli_input_json_is_overridden_by_arguments() {
        let c = run(
            "CreateBackup",
            &[
                "--cli-input-json",
                "{\"TableName\": \"t\", \"BackupName\": \"json\"}",
                "--backup-name",
                "cli",
            ],
        )
        .unwrap();
        assert_eq!(c.params["TableName"], "t");
        assert_eq!(c.params["BackupName"], "cli");
        let e = run("ListTables", &["--limit", "abc"]).err().unwrap();
        assert_eq!(
            e.stderr_text(),
            "\ninvalid literal for int() with base 10: 'abc'\n"
        );
    }
}
