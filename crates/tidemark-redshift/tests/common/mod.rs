//! Shared harness: a service on an in-memory store with a frozen virtual clock, driven
//! through the generated JSON dispatcher exactly as the wire calls it.
#![allow(dead_code)]

use std::sync::Arc;

use serde_json::{Value, json};
use tidemark_core::{AccountId, RequestContext, Timestamp};
use tidemark_jobs::Engine;
use tidemark_model::DispatchError;
use tidemark_model::redshift::dispatch_redshift;
use tidemark_redshift::RedshiftService;
use tidemark_store::MemStore;

pub const OWNER: &str = "111111111111";
pub const OTHER: &str = "222222222222";
pub const THIRD: &str = "333333333333";

pub fn t0() -> Timestamp {
    "2040-01-01T00:00:00Z".parse().unwrap()
}

pub struct H {
    pub engine: Arc<Engine>,
    pub svc: Arc<RedshiftService>,
}

pub fn ctx(account: &str) -> RequestContext {
    RequestContext::new(AccountId::parse(account).unwrap(), "us-east-1", "req-1")
}

impl H {
    pub fn new() -> Self {
        let store: Arc<dyn tidemark_store::Store> = Arc::new(MemStore::new());
        let engine = Arc::new(Engine::open(Arc::clone(&store)).unwrap());
        engine.set_frozen(true).unwrap();
        engine.set_time(t0()).unwrap();
        let svc = RedshiftService::new(store, Arc::clone(&engine));
        engine.recover().unwrap();
        Self { engine, svc }
    }

    /// Dispatches as `account`, then runs the jobs due now (transitions settle by the next read).
    pub fn call_as(&self, account: &str, op: &str, input: Value) -> Result<Value, DispatchError> {
        let out = dispatch_redshift(&*self.svc, &ctx(account), op, input);
        self.engine.run_due().unwrap();
        out
    }

    pub fn call(&self, op: &str, input: Value) -> Result<Value, DispatchError> {
        self.call_as(OWNER, op, input)
    }

    pub fn ok(&self, op: &str, input: Value) -> Value {
        self.call(op, input)
            .unwrap_or_else(|e| panic!("{op} failed: {e:?}"))
    }

    /// Advances the virtual clock, running every job that falls due.
    pub fn advance_hours(&self, h: i64) {
        self.engine.advance(h * 3600).unwrap();
    }

    pub fn create_cluster(&self, id: &str, extra: Value) -> Value {
        let mut input = json!({"ClusterIdentifier": id, "NodeType": "dc2.large", "MasterUsername": "admin", "MasterUserPassword": "Passw0rd1"});
        if let (Some(m), Some(e)) = (input.as_object_mut(), extra.as_object()) {
            m.extend(e.clone());
        }
        self.ok("CreateCluster", input)
    }

    pub fn snapshots(&self, account: &str, input: Value) -> Vec<Value> {
        let out = self
            .call_as(account, "DescribeClusterSnapshots", input)
            .unwrap();
        out["Snapshots"].as_array().cloned().unwrap_or_default()
    }

    pub fn snapshot_ids(&self, account: &str, input: Value) -> Vec<String> {
        self.snapshots(account, input)
            .iter()
            .map(|s| s["SnapshotIdentifier"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// `(code, http status)` of a modeled error; panics for anything else.
pub fn modeled(e: &DispatchError) -> (&'static str, u16) {
    match e {
        DispatchError::Modeled(v) => (v.info.code, v.info.http_status),
        other => panic!("expected a modeled error, got {other:?}"),
    }
}

/// The modeled error message.
pub fn message(e: &DispatchError) -> String {
    match e {
        DispatchError::Modeled(v) => v.message().unwrap_or_default().to_owned(),
        DispatchError::Common(c) => c.to_string(),
        other => other.to_string(),
    }
}

/// The Redshift common-error code a `CommonError` maps to on the wire.
pub fn common(e: &DispatchError) -> &'static str {
    use tidemark_model::CommonError::*;
    match e {
        DispatchError::Common(InvalidParameterValue(_)) => "InvalidParameterValue",
        DispatchError::Common(InvalidParameterCombination(_)) => "InvalidParameterCombination",
        DispatchError::Common(MissingParameter(_)) => "MissingParameter",
        other => panic!("expected a common error, got {other:?}"),
    }
}

impl H {
    /// Dispatches without running jobs, to observe transitional states.
    pub fn dispatch_only(&self, op: &str, input: Value) -> Value {
        dispatch_redshift(&*self.svc, &ctx(OWNER), op, input)
            .unwrap_or_else(|e| panic!("{op} failed: {e:?}"))
    }

    pub fn dispatch_only_err(&self, op: &str, input: Value) -> DispatchError {
        dispatch_redshift(&*self.svc, &ctx(OWNER), op, input).expect_err("expected an error")
    }
}
