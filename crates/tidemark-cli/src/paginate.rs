//! Pagination through the model's paginators, a port of botocore `paginate.py`
//! (`PageIterator`, `build_full_result`, resume tokens with `boto_truncate_amount`) as the
//! aws CLI v1 uses it (`--starting-token`, `--page-size`, `--max-items`).

use base64::Engine;
use serde_json::{Map, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Paginator configuration from the model's `x-paginators`.
pub struct Config {
    pub input_tokens: Vec<String>,
    pub output_tokens: Vec<String>,
    pub result_keys: Vec<String>,
    pub limit_key: Option<String>,
    pub more_results: Option<String>,
    pub non_aggregate_keys: Vec<String>,
}

fn strs(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => vec![],
    }
}

impl Config {
    pub fn from_model(p: &Value) -> Config {
        Config {
            input_tokens: strs(p.get("input_token")),
            output_tokens: strs(p.get("output_token")),
            result_keys: strs(p.get("result_key")),
            limit_key: p.get("limit_key").and_then(Value::as_str).map(String::from),
            more_results: p
                .get("more_results")
                .and_then(Value::as_str)
                .map(String::from),
            non_aggregate_keys: strs(p.get("non_aggregate_keys")),
        }
    }
}

/// Simple JMESPath subset used by paginator configs: dotted field paths.
pub fn search<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    if cur.is_null() { None } else { Some(cur) }
}

/// `set_value_from_jmespath` for dotted paths.
pub fn set_path(v: &mut Value, path: &str, new: Value) {
    let parts: Vec<&str> = path.split('.').collect();
    let mut cur = v;
    for (i, part) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else { return };
        if i == parts.len() - 1 {
            m.insert((*part).to_string(), new);
            return;
        }
        cur = m
            .entry((*part).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Encodes a resume token like botocore's `TokenEncoder` (`json.dumps` then base64).
pub fn encode_token(token: &Map<String, Value>) -> String {
    let body = token
        .iter()
        .map(|(k, v)| {
            format!(
                "{}: {}",
                serde_json::to_string(k).unwrap_or_default(),
                py_json_compact(v)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    B64.encode(format!("{{{body}}}"))
}

fn py_json_compact(v: &Value) -> String {
    match v {
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(py_json_compact).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    serde_json::to_string(k).unwrap_or_default(),
                    py_json_compact(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Number(n) => crate::pyfmt::number_repr(n),
        // Python's json.dumps escapes non-ASCII by default.
        Value::String(s) => {
            let mut out = String::from("\"");
            for c in serde_json::to_string(s)
                .unwrap_or_default()
                .trim_matches('"')
                .chars()
            {
                if (c as u32) > 0x7e {
                    let mut buf = [0u16; 2];
                    for u in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{u:04x}"));
                    }
                } else {
                    out.push(c);
                }
            }
            out.push('"');
            out
        }
        other => other.to_string(),
    }
}

/// Decodes a starting token into (input token values, truncation amount).
pub fn decode_token(cfg: &Config, token: &str) -> Result<(Map<String, Value>, usize), String> {
    let err = || format!("Error during pagination: Unable to parse pagination token: {token}");
    let raw = B64.decode(token.trim()).map_err(|_| err())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| err())?;
    let Value::Object(mut m) = v else {
        return Err(err());
    };
    let trunc = m
        .remove("boto_truncate_amount")
        .and_then(|v| v.as_u64())
        .unwrap_or(0) as usize;
    for k in m.keys() {
        if !cfg.input_tokens.contains(k) {
            return Err(err());
        }
    }
    Ok((m, trunc))
}

/// One request of the page loop: parameters in, parsed page out.
pub type PageCall<'a> =
    dyn FnMut(&Map<String, Value>) -> Result<Value, crate::error::CliError> + 'a;

/// Result of paging: the pages (for text output) and the merged result.
pub struct Paged {
    pub pages: Vec<Value>,
    pub resume_token: Option<String>,
    pub non_aggregate: Map<String, Value>,
}

/// Runs the page loop; `call` performs one request with the given parameters.
pub fn paginate(
    cfg: &Config,
    mut params: Map<String, Value>,
    starting_token: Option<&str>,
    page_size: Option<i64>,
    max_items: Option<i64>,
    call: &mut PageCall<'_>,
) -> Result<Paged, crate::error::CliError> {
    let mut starting_trunc = 0usize;
    if let Some(t) = starting_token {
        let (tokens, trunc) = decode_token(cfg, t).map_err(crate::error::CliError::Failure)?;
        for (k, v) in tokens {
            // _inject_starting_params skips None tokens.
            if !v.is_null() && v != "None" {
                params.insert(k, v);
            }
        }
        starting_trunc = trunc;
    }
    if let (Some(ps), Some(lk)) = (page_size, &cfg.limit_key) {
        params.insert(lk.clone(), Value::from(ps));
    }
    let primary = cfg.result_keys.first().cloned().unwrap_or_default();
    let mut out = Paged {
        pages: Vec::new(),
        resume_token: None,
        non_aggregate: Map::new(),
    };
    let mut total: i64 = 0;
    let mut first = true;
    let mut previous: Option<Map<String, Value>> = None;
    loop {
        let mut parsed = call(&params)?;
        if first {
            if starting_token.is_some() {
                if let Some(Value::Array(all)) = search(&parsed, &primary).cloned() {
                    set_path(
                        &mut parsed,
                        &primary,
                        Value::Array(all.into_iter().skip(starting_trunc).collect()),
                    );
                }
            } else {
                starting_trunc = 0;
            }
            // _record_non_aggregate_key_values records the key even when it is None.
            for k in &cfg.non_aggregate_keys {
                let v = search(&parsed, k).cloned().unwrap_or(Value::Null);
                out.non_aggregate.insert(k.clone(), v);
            }
            first = false;
        } else {
            starting_trunc = 0;
        }
        let n = search(&parsed, &primary)
            .and_then(Value::as_array)
            .map(Vec::len)
            .unwrap_or(0) as i64;
        let next: Map<String, Value> = {
            let more = cfg
                .more_results
                .as_ref()
                .map(|m| search(&parsed, m).and_then(Value::as_bool).unwrap_or(false));
            let mut t = Map::new();
            if more != Some(false) {
                for (i, o) in cfg.input_tokens.iter().zip(cfg.output_tokens.iter()) {
                    if let Some(v) = search(&parsed, o) {
                        t.insert(i.clone(), v.clone());
                    }
                }
            }
            t
        };
        if let Some(max) = max_items {
            let truncate = total + n - max;
            if truncate > 0 {
                let keep = (n - truncate) as usize;
                if let Some(Value::Array(all)) = search(&parsed, &primary).cloned() {
                    set_path(
                        &mut parsed,
                        &primary,
                        Value::Array(all.into_iter().take(keep).collect()),
                    );
                }
                // The resume token re-requests this page and skips what was already shown.
                let mut tok: Map<String, Value> = Map::new();
                for i in &cfg.input_tokens {
                    tok.insert(i.clone(), params.get(i).cloned().unwrap_or(Value::Null));
                }
                tok.insert(
                    "boto_truncate_amount".into(),
                    Value::from(keep + starting_trunc),
                );
                out.resume_token = Some(encode_token(&tok));
                out.pages.push(parsed);
                break;
            }
        }
        out.pages.push(parsed);
        total += n;
        if next.is_empty() {
            break;
        }
        if max_items == Some(total) {
            let mut tok = Map::new();
            for i in &cfg.input_tokens {
                tok.insert(i.clone(), next.get(i).cloned().unwrap_or(Value::Null));
            }
            out.resume_token = Some(encode_token(&tok));
            break;
        }
        if previous.as_ref() == Some(&next) {
            return Err(crate::error::CliError::Failure(format!(
                "Error during pagination: The same next token was received twice: {}",
                py_json_compact(&Value::Object(next))
            )));
        }
        for (k, v) in &next {
            params.insert(k.clone(), v.clone());
        }
        previous = Some(next);
    }
    Ok(out)
}

/// `build_full_result`: result keys merged across pages, non-aggregate keys, `NextToken`.
pub fn full_result(cfg: &Config, paged: &Paged) -> Value {
    let mut complete = Value::Object(Map::new());
    for page in &paged.pages {
        for rk in &cfg.result_keys {
            let Some(val) = search(page, rk).cloned() else {
                continue;
            };
            match (search(&complete, rk).cloned(), val) {
                (None, v) => set_path(&mut complete, rk, v),
                (Some(Value::Array(mut existing)), Value::Array(more)) => {
                    existing.extend(more);
                    set_path(&mut complete, rk, Value::Array(existing));
                }
                (Some(Value::String(a)), Value::String(b)) => {
                    set_path(&mut complete, rk, Value::String(a + &b))
                }
                (Some(Value::Number(a)), Value::Number(b)) => {
                    let sum = match (a.as_i64(), b.as_i64()) {
                        (Some(x), Some(y)) => Value::from(x + y),
                        _ => serde_json::Number::from_f64(
                            a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0),
                        )
                        .map(Value::Number)
                        .unwrap_or(Value::Null),
                    };
                    set_path(&mut complete, rk, sum)
                }
                _ => {}
            }
        }
    }
    if let Value::Object(m) = &mut complete {
        for (k, v) in &paged.non_aggregate {
            m.insert(k.clone(), v.clone());
        }
        if let Some(t) = &paged.resume_token {
            m.insert("NextToken".into(), Value::String(t.clone()));
        }
    }
    complete
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cfg() -> Config {
        Config::from_model(
            &json!({"input_token": "ExclusiveStartTableName", "output_token": "LastEvaluatedTableName", "limit_key": "Limit", "result_key": "TableNames"}),
        )
    }

    fn fake(params: &Map<String, Value>) -> Result<Value, crate::error::CliError> {
        // Three pages of two tables each.
        let all = ["a", "b", "c", "d", "e", "f"];
        let start = params
            .get("ExclusiveStartTableName")
            .and_then(Value::as_str)
            .map(|s| all.iter().position(|x| *x == s).unwrap() + 1)
            .unwrap_or(0);
        let page: Vec<&str> = all[start..].iter().take(2).copied().collect();
        let mut v = json!({"TableNames": page});
        if start + 2 < all.len() {
            v["LastEvaluatedTableName"] = json!(page[1]);
        }
        Ok(v)
    }

    #[test]
    fn pages_are_merged() {
        let c = cfg();
        let p = paginate(&c, Map::new(), None, None, None, &mut fake).unwrap();
        assert_eq!(p.pages.len(), 3);
        assert_eq!(
            full_result(&c, &p),
            json!({"TableNames": ["a", "b", "c", "d", "e", "f"]})
        );
    }

    #[test]
    fn max_items_and_resume() {
        let c = cfg();
        let p = paginate(&c, Map::new(), None, None, Some(3), &mut fake).unwrap();
        let full = full_result(&c, &p);
        assert_eq!(full["TableNames"], json!(["a", "b", "c"]));
        let tok = full["NextToken"].as_str().unwrap().to_string();
        assert_eq!(
            String::from_utf8(B64.decode(&tok).unwrap()).unwrap(),
            "{\"ExclusiveStartTableName\": \"b\", \"boto_truncate_amount\": 1}"
        );
        let p = paginate(&c, Map::new(), Some(&tok), None, None, &mut fake).unwrap();
        assert_eq!(full_result(&c, &p), json!({"TableNames": ["d", "e", "f"]}));
    }
}
