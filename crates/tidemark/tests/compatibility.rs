//! Keeps `docs/compatibility.md` true: every operation of the three models is listed once, and
//! its status agrees with the code (an operation is "supported" or "partial: …" exactly
//! when the service answers it with something other than NotImplemented).
//!
//! `TIDEMARK_BLESS=1 cargo test -p tidemark --test compatibility` rewrites the table from the
//! code, keeping the notes of rows whose status still holds.

use std::collections::BTreeMap;
use std::sync::Arc;

use tidemark_core::{AccountId, RequestContext};
use tidemark_jobs::Engine;
use tidemark_model::dynamodb::{DYNAMODB, implements_dynamodb};
use tidemark_model::redshift::{REDSHIFT, implements_redshift};
use tidemark_model::redshift_data::{REDSHIFT_DATA, implements_redshift_data};
use tidemark_redshift_data::{ConnectError, RedshiftDataService, SqlBackend, SqlSession, Target};
use tidemark_store::{MemStore, Store};

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/compatibility.md");

/// (service heading, operation) → status cell.
fn parse_doc(text: &str) -> BTreeMap<(String, String), String> {
    let mut rows = BTreeMap::new();
    let mut service = String::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            service = h.trim().to_owned();
        } else if let Some(row) = line.strip_prefix("| `") {
            let cells: Vec<&str> = row.split(" | ").collect();
            let op = cells[0].trim_end_matches('`').to_owned();
            let status = cells
                .get(1)
                .map(|s| s.trim().trim_end_matches('|').trim())
                .unwrap_or_default();
            let prev = rows.insert((service.clone(), op.clone()), status.to_owned());
            assert!(prev.is_none(), "{op} is listed twice under {service}");
        }
    }
    rows
}

fn implemented() -> BTreeMap<(String, String), bool> {
    let store: Arc<dyn Store> = Arc::new(MemStore::new());
    let engine = Arc::new(Engine::open(store.clone()).expect("engine opens"));
    let ddb = tidemark_dynamodb::DynamoDbService::new(store.clone(), engine.clone());
    let rs = tidemark_redshift::RedshiftService::new(store, engine.clone());
    let data = RedshiftDataService::new(Arc::new(NoClusters), Box::new(move || engine.now()));
    let ctx = RequestContext::new(AccountId::default_account(), "us-east-1", "compat");
    let mut out = BTreeMap::new();
    for op in DYNAMODB.operations {
        out.insert(
            ("DynamoDB".into(), op.name.into()),
            implements_dynamodb(&*ddb, &ctx, op.name),
        );
    }
    for op in REDSHIFT.operations {
        out.insert(
            ("Redshift".into(), op.name.into()),
            implements_redshift(&*rs, &ctx, op.name),
        );
    }
    for op in REDSHIFT_DATA.operations {
        out.insert(
            ("Redshift Data API".into(), op.name.into()),
            implements_redshift_data(&*data, &ctx, op.name),
        );
    }
    out
}

/// A Data API backend without clusters: the probe only asks whether each operation has a
/// handler.
struct NoClusters;

impl SqlBackend for NoClusters {
    fn check(&self, _: &str, _: &str, cluster: &str) -> Result<(), ConnectError> {
        Err(ConnectError::NoCluster(cluster.to_owned()))
    }
    fn connect(&self, t: &Target) -> Result<Box<dyn SqlSession>, ConnectError> {
        Err(ConnectError::NoCluster(t.cluster.clone()))
    }
}

fn status_ok(status: &str, implemented: bool) -> bool {
    if implemented {
        status == "supported" || status.starts_with("partial: ")
    } else {
        status == "not supported"
    }
}

fn render(
    code: &BTreeMap<(String, String), bool>,
    doc: &BTreeMap<(String, String), String>,
) -> String {
    let mut out = String::from(
        "# Compatibility\n\nEvery operation of the three AWS models, with its status in tidemark: `supported`, \
         `partial: <what is missing>`, or `not supported` (answers a well-formed AWS error naming the \
         operation: DynamoDB and the Redshift Data API `UnknownOperationException`, Redshift \
         `InvalidAction`). \
         `crates/tidemark/tests/compatibility.rs` checks this table against the code.\n",
    );
    for service in ["DynamoDB", "Redshift", "Redshift Data API"] {
        out.push_str(&format!(
            "\n## {service}\n\n| operation | status |\n|---|---|\n"
        ));
        for ((s, op), implemented) in code.iter().filter(|((s, _), _)| s == service) {
            let status = match doc.get(&(s.clone(), op.clone())) {
                Some(st) if status_ok(st, *implemented) => st.clone(),
                _ if *implemented => "supported".to_owned(),
                _ => "not supported".to_owned(),
            };
            out.push_str(&format!("| `{op}` | {status} |\n"));
        }
    }
    out
}

#[test]
fn compatibility_table_matches_the_code() {
    let text = std::fs::read_to_string(DOC).unwrap_or_default();
    let doc = parse_doc(&text);
    let code = implemented();
    if std::env::var_os("TIDEMARK_BLESS").is_some() {
        std::fs::write(DOC, render(&code, &doc)).expect("write docs/compatibility.md");
        return;
    }
    let mut problems = Vec::new();
    for (key, implemented) in &code {
        match doc.get(key) {
            None => problems.push(format!("{} {} is missing", key.0, key.1)),
            Some(st) if !status_ok(st, *implemented) => problems.push(format!(
                "{} {}: doc says '{st}' but implemented = {implemented}",
                key.0, key.1
            )),
            Some(_) => {}
        }
    }
    for key in doc.keys().filter(|k| !code.contains_key(*k)) {
        problems.push(format!(
            "{} {} is not an operation of the model",
            key.0, key.1
        ));
    }
    assert!(
        problems.is_empty(),
        "docs/compatibility.md is out of date (TIDEMARK_BLESS=1 rewrites it):\n{}",
        problems.join("\n")
    );
}
