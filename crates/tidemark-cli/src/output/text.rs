//! `--output text`, a port of awscli v1 `awscli/text.py` (row prefixes are the upper-cased
//! parent key; scalar keys sorted; lists of dicts share one sorted scalar-key set).

use serde_json::Value;

use crate::pyfmt::py_str;

/// Renders `data` like `text.format_text`.
pub fn format_text(data: &Value, out: &mut String) {
    format_item(data, out, None, None);
}

fn is_container(v: &Value) -> bool {
    v.is_object() || v.is_array()
}

fn format_item(
    item: &Value,
    out: &mut String,
    identifier: Option<&str>,
    scalar_keys: Option<&[String]>,
) {
    match item {
        Value::Object(_) => format_dict(scalar_keys, item, identifier, out),
        Value::Array(list) => format_list(list, identifier, out),
        other => {
            out.push_str(&py_str(other));
            out.push('\n');
        }
    }
}

fn format_list(list: &[Value], identifier: Option<&str>, out: &mut String) {
    if list.is_empty() {
        return;
    }
    if list.iter().any(Value::is_object) {
        let all_keys = all_scalar_keys(list);
        for el in list {
            format_item(el, out, identifier, Some(&all_keys));
        }
    } else if list.iter().any(Value::is_array) {
        let scalars: Vec<&Value> = list.iter().filter(|v| !is_container(v)).collect();
        if !scalars.is_empty() {
            format_scalar_list(&scalars, identifier, out);
        }
        for el in list.iter().filter(|v| is_container(v)) {
            format_item(el, out, identifier, None);
        }
    } else {
        let all: Vec<&Value> = list.iter().collect();
        format_scalar_list(&all, identifier, out);
    }
}

fn format_scalar_list(items: &[&Value], identifier: Option<&str>, out: &mut String) {
    if let Some(id) = identifier {
        for item in items {
            out.push_str(&format!("{}\t{}\n", id.to_uppercase(), py_str(item)));
        }
    } else {
        out.push_str(
            &items
                .iter()
                .map(|v| py_str(v))
                .collect::<Vec<_>>()
                .join("\t"),
        );
        out.push('\n');
    }
}

fn format_dict(
    scalar_keys: Option<&[String]>,
    item: &Value,
    identifier: Option<&str>,
    out: &mut String,
) {
    let Value::Object(map) = item else { return };
    let mut scalars: Vec<String> = Vec::new();
    let mut non_scalars: Vec<(String, &Value)> = Vec::new();
    match scalar_keys {
        None => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for k in keys {
                let v = &map[k.as_str()];
                if is_container(v) {
                    non_scalars.push((k.clone(), v));
                } else {
                    scalars.push(py_str(v));
                }
            }
        }
        Some(keys) => {
            for k in keys {
                scalars.push(map.get(k.as_str()).map(py_str).unwrap_or_default());
            }
            let mut rest: Vec<&String> = map.keys().filter(|k| !keys.contains(k)).collect();
            rest.sort();
            for k in rest {
                non_scalars.push((k.clone(), &map[k.as_str()]));
            }
        }
    }
    if !scalars.is_empty() {
        if let Some(id) = identifier {
            scalars.insert(0, id.to_uppercase());
        }
        out.push_str(&scalars.join("\t"));
        out.push('\n');
    }
    for (k, v) in non_scalars {
        format_item(v, out, Some(&k), None);
    }
}

fn all_scalar_keys(list: &[Value]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for item in list {
        if let Value::Object(m) = item {
            for (k, v) in m {
                if !is_container(v) && !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
    }
    keys.sort();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_rows_like_awscli() {
        let v = json!({"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}});
        let mut s = String::new();
        format_text(&v, &mut s);
        assert_eq!(
            s,
            "CONTINUOUSBACKUPSDESCRIPTION\tENABLED\nPOINTINTIMERECOVERYDESCRIPTION\tDISABLED\n"
        );
        let mut s = String::new();
        format_text(&json!({"TableNames": ["a", "b"]}), &mut s);
        assert_eq!(s, "TABLENAMES\ta\nTABLENAMES\tb\n");
        let mut s = String::new();
        format_text(&json!([["x", "y"], ["z", 1.5]]), &mut s);
        assert_eq!(s, "x\ty\nz\t1.5\n");
    }
}
