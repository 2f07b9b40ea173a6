//! Output formatters (`--output json|text|table`), ported from awscli v1 `awscli/formatter.py`:
//! `--query` is applied to the full result (json, table) or per page (text), exactly as the
//! formatters there do. `yaml` and `yaml-stream` come from aws CLI v2 (v1 has neither):
//! `yaml` like json (full result, nothing for `{}`), `yaml-stream` one `- page` per page.

pub mod eaw;
pub mod table;
pub mod text;
pub mod yaml;
mod yaml_scalar;
#[cfg(test)]
mod yaml_tests;

use serde_json::{Map, Value};

use crate::error::CliError;
use crate::paginate::{self, Config as PageConfig, Paged};
use crate::printer::Printer;
use crate::pyfmt;

pub enum Response {
    Single(Value),
    Paged(PageConfig, Paged),
}

pub struct OutputCtx<'a> {
    pub output: String,
    pub query: Option<&'a crate::jmespath::Expression>,
    pub color: bool,
    pub op_name: &'a str,
}

fn apply_query(ctx: &OutputCtx<'_>, v: Value) -> Result<Value, CliError> {
    match ctx.query {
        Some(q) => q.search(&v).map_err(|e| CliError::Failure(e.to_string())),
        None => Ok(v),
    }
}

/// Formats a response as awscli's json/text/table formatters do.
pub fn emit(
    printer: &mut dyn Printer,
    ctx: &OutputCtx<'_>,
    response: Response,
) -> Result<(), CliError> {
    if ctx.output == "text"
        && let Response::Paged(cfg, paged) = &response
    {
        // Each page is printed before the next is queried: a query that fails on a later
        // page (e.g. on the trailing NextToken) leaves the earlier pages printed, as in aws.
        for (i, page) in paged.pages.iter().enumerate() {
            let mut out = String::new();
            let mut current = if i == 0 {
                Value::Object(paged.non_aggregate.clone())
            } else {
                Value::Object(Map::new())
            };
            for rk in &cfg.result_keys {
                let data = paginate::search(page, rk).cloned().unwrap_or(Value::Null);
                paginate::set_path(&mut current, rk, data);
            }
            text::format_text(&apply_query(ctx, current)?, &mut out);
            printer.out(&out);
        }
        if let Some(t) = &paged.resume_token {
            let mut out = String::new();
            let v = serde_json::json!({"NextToken": {"NextToken": t}});
            text::format_text(&apply_query(ctx, v)?, &mut out);
            printer.out(&out);
        }
        return Ok(());
    }
    if ctx.output == "yaml-stream" {
        // v2 `StreamedYAMLFormatter`: each page (or the single response) as a one-item list.
        let pages = match response {
            Response::Single(v) => vec![v],
            Response::Paged(_, paged) => paged.pages,
        };
        for page in pages {
            let page = apply_query(ctx, page)?;
            printer.out(&yaml::dump(&Value::Array(vec![page])));
        }
        return Ok(());
    }
    let data = match response {
        Response::Single(v) => v,
        Response::Paged(cfg, paged) => paginate::full_result(&cfg, &paged),
    };
    let data = apply_query(ctx, data)?;
    match ctx.output.as_str() {
        "text" => {
            let mut out = String::new();
            text::format_text(&data, &mut out);
            printer.out(&out);
        }
        "table" => {
            let width = if printer.stdout_is_tty() {
                std::env::var("COLUMNS")
                    .ok()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(80)
            } else {
                80
            };
            let text = table::try_format_table(ctx.op_name, &data, ctx.color, width)
                .map_err(CliError::Failure)?;
            printer.out(&text);
        }
        "yaml" => {
            // v2 `YAMLFormatter`: like json, an empty response prints nothing.
            if data != Value::Object(Map::new()) {
                printer.out(&yaml::dump(&data));
            }
        }
        _ => {
            if data != Value::Object(Map::new()) {
                printer.out(&format!("{}\n", pyfmt::json_dumps(&data)));
            }
        }
    }
    Ok(())
}
