//! Test harness: a DynamoDbService over an in-memory store, driven through the generated
//! dispatcher with JSON inputs (so serde, model validation and the handler all run).

#![allow(dead_code)]

use std::sync::Arc;

use serde_json::{Value, json};
use tidemark_core::{AccountId, RequestContext};
use tidemark_dynamodb::DynamoDbService;
use tidemark_jobs::Engine;
use tidemark_model::dynamodb::dispatch_dynamodb;
use tidemark_model::{CommonError, DispatchError};
use tidemark_store::{MemStore, Store};

pub struct Env {
    pub svc: Arc<DynamoDbService>,
    pub engine: Arc<Engine>,
    pub ctx: RequestContext,
}

impl Env {
    pub fn new() -> Env {
        Env::build(None)
    }

    /// An Env whose backups go to `vault` (so a test can look at the vault).
    pub fn with_vault(vault: Arc<tidemark_vault::Vault>) -> Env {
        Env::build(Some(vault))
    }

    /// An Env over `store` (the server's own redb store, for timings: `MemStore` copies a
    /// written table whole in every transaction).
    pub fn with_store(store: Arc<dyn Store>) -> Env {
        Env::build_on(store, None)
    }

    fn build(vault: Option<Arc<tidemark_vault::Vault>>) -> Env {
        Env::build_on(Arc::new(MemStore::new()), vault)
    }

    fn build_on(store: Arc<dyn Store>, vault: Option<Arc<tidemark_vault::Vault>>) -> Env {
        let engine = Arc::new(Engine::open(store.clone()).unwrap());
        let svc = match vault {
            Some(v) => DynamoDbService::with_vault(store, engine.clone(), v),
            None => DynamoDbService::new(store, engine.clone()),
        };
        engine.recover().unwrap();
        Env {
            svc,
            engine,
            ctx: RequestContext::new(AccountId::default_account(), "us-east-1", "test"),
        }
    }

    /// The same service seen from another account.
    pub fn other_account(&self) -> RequestContext {
        RequestContext::new(
            AccountId::parse("210987654321").unwrap(),
            "us-east-1",
            "test",
        )
    }

    pub fn call_as(
        &self,
        ctx: &RequestContext,
        op: &str,
        input: Value,
    ) -> Result<Value, DispatchError> {
        dispatch_dynamodb(&*self.svc, ctx, op, input)
    }

    pub fn call(&self, op: &str, input: Value) -> Result<Value, DispatchError> {
        self.call_as(&self.ctx, op, input)
    }

    pub fn ok(&self, op: &str, input: Value) -> Value {
        match self.call(op, input) {
            Ok(v) => v,
            Err(e) => panic!("{op} failed: {e:?}"),
        }
    }

    /// `(error code, message)` of a failing call.
    pub fn err(&self, op: &str, input: Value) -> (String, String) {
        match self.call(op, input) {
            Ok(v) => panic!("{op} unexpectedly succeeded: {v}"),
            Err(e) => describe_error(e),
        }
    }

    /// Runs the jobs due now (the settle jobs a table change submitted).
    pub fn settle(&self) {
        self.engine.run_due().unwrap();
    }

    /// Creates a table and settles it to ACTIVE.
    pub fn table(&self, input: Value) {
        self.ok("CreateTable", input);
        self.settle();
    }

    /// `pk` (S) hash key and `sk` (N) range key, on demand.
    pub fn simple_table(&self, name: &str) {
        self.table(json!({
            "TableName": name,
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST"
        }));
    }

    pub fn status(&self, name: &str) -> String {
        let d = self.ok("DescribeTable", json!({"TableName": name}));
        d["Table"]["TableStatus"].as_str().unwrap().to_string()
    }
}

pub fn describe_error(e: DispatchError) -> (String, String) {
    match e {
        DispatchError::Modeled(m) => (
            m.shape.to_string(),
            m.message().unwrap_or_default().to_string(),
        ),
        DispatchError::Common(CommonError::Validation(m)) => ("ValidationException".into(), m),
        DispatchError::Common(CommonError::AccessDenied(m)) => ("AccessDeniedException".into(), m),
        DispatchError::Invalid(_) => ("ValidationException".into(), e.to_string()),
        other => (format!("{other:?}"), other.to_string()),
    }
}
