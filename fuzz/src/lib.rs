//! Shared harness of the fuzz targets: a whole tidemark server (DynamoDB and Redshift over an
//! in-memory store) driven in-process through the same axum app the binary serves, so a
//! fuzzed request goes through routing, SigV4, the awsJson/awsQuery decoders, the model's
//! validation and the handlers exactly as one from the network would.
//!
//! What counts as a finding: a panic (libFuzzer's hook aborts even where the server would
//! catch it), a hang or out-of-memory (libFuzzer's -timeout and -rss_limit_mb), and any 500
//! answer, which the in-memory store never has a reason to give.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::Request;
use tidemark_auth::AuthMode;
use tidemark_core::RequestContext;
use tidemark_jobs::Engine;
use tidemark_store::{MemStore, Store};
use tidemark_wire::{Admin, ClockChange, ClockView, Services};
use tower::ServiceExt;

/// The account every target's requests are signed for (permissive mode takes a 12-digit
/// access key id as the account).
pub const ACCOUNT: &str = "123456789012";

/// An admin API that refuses everything: the targets fuzz the AWS protocols, not the admin
/// routes (which reset state or move the clock).
struct NoAdmin {
    engine: Arc<Engine>,
}

impl Admin for NoAdmin {
    fn clock(&self) -> ClockView {
        let clock = self.engine.clock();
        ClockView {
            now: clock.now(),
            frozen: clock.is_frozen(),
        }
    }
    fn change_clock(&self, _: ClockChange) -> Result<ClockView, String> {
        Err("not while fuzzing".into())
    }
    fn reset(&self) -> Result<(), String> {
        Err("not while fuzzing".into())
    }
}

/// One in-memory server: its services and the async runtime that drives requests.
pub struct Harness {
    pub runtime: tokio::runtime::Runtime,
    pub services: Arc<Services>,
    pub dynamodb: Arc<tidemark_dynamodb::DynamoDbService>,
    pub engine: Arc<Engine>,
}

impl Harness {
    pub fn new(auth: AuthMode) -> Harness {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime always builds");
        let store: Arc<dyn Store> = Arc::new(MemStore::new());
        let engine = Arc::new(Engine::open(store.clone()).expect("engine over a fresh MemStore"));
        let dynamodb = tidemark_dynamodb::DynamoDbService::new(store.clone(), engine.clone());
        let redshift = tidemark_redshift::RedshiftService::new(store.clone(), engine.clone());
        engine
            .recover()
            .expect("nothing to recover in a fresh store");
        let services = Arc::new(Services {
            dynamodb: dynamodb.clone(),
            redshift,
            redshift_data: Arc::new(tidemark_wire::redshift_data::NoRedshiftData),
            admin: Arc::new(NoAdmin {
                engine: engine.clone(),
            }),
            auth,
            max_body: tidemark_wire::DEFAULT_MAX_BODY,
            decode_budget: tidemark_wire::json::DecodeBudget::new(
                512 * 1024 * 1024,
                tidemark_wire::json::budget::QUEUE_WAIT,
            ),
        });
        Harness {
            runtime,
            services,
            dynamodb,
            engine,
        }
    }

    /// Sends one request through the app; returns the status and body.
    pub fn send(&self, req: Request<Body>) -> (u16, Vec<u8>) {
        let app = tidemark_wire::app(self.services.clone());
        self.runtime.block_on(async move {
            let resp = app
                .oneshot(req)
                .await
                .expect("the app's error type is Infallible");
            let status = resp.status().as_u16();
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .expect("a buffered body always reads");
            (status, body.to_vec())
        })
    }

    /// Runs the jobs due now (table settles, backups, restores), as the server's background
    /// thread would.
    pub fn settle(&self) {
        if let Err(e) = self.engine.run_due() {
            panic!("a due job failed in the engine: {e}");
        }
    }

    /// A context for calling the dispatcher directly.
    pub fn context(&self) -> RequestContext {
        RequestContext::new(
            tidemark_core::AccountId::default_account(),
            "us-east-1",
            "fuzz",
        )
    }
}

/// The SigV4 header of a well-formed (permissive-mode) request to `service`.
pub fn auth_header(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={ACCOUNT}/20260101/us-east-1/{service}/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature={}",
        "0".repeat(64)
    )
}

/// A 500 is a finding: the in-memory store cannot fail, so only a bug gives one.
pub fn check_status(status: u16, body: &[u8]) {
    if std::env::var_os("TIDEMARK_FUZZ_SHOW").is_some() {
        eprintln!(
            "{status} {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
    }
    assert!(
        status != 500,
        "internal error: {}",
        String::from_utf8_lossy(&body[..body.len().min(2000)])
    );
}

/// The DynamoDB harness, with a table `tbl` (hash `pk` S, range `sk` N, a GSI `gsi` on `g` and an LSI `lsi`
/// on `l`) holding a few items, created once per process.
pub fn dynamodb() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let h = Harness::new(AuthMode::Permissive);
        let ctx = h.context();
        let call = |op: &str, v: serde_json::Value| {
            tidemark_model::dynamodb::dispatch_dynamodb(&*h.dynamodb, &ctx, op, v)
                .unwrap_or_else(|e| panic!("harness {op}: {e:?}"))
        };
        call(
            "CreateTable",
            serde_json::json!({
                "TableName": "tbl",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"},
                    {"AttributeName": "g", "AttributeType": "S"},
                    {"AttributeName": "l", "AttributeType": "B"}
                ],
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"}
                ],
                "GlobalSecondaryIndexes": [{
                    "IndexName": "gsi",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"}
                }],
                "LocalSecondaryIndexes": [{
                    "IndexName": "lsi",
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "l", "KeyType": "RANGE"}
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"}
                }],
                "BillingMode": "PAY_PER_REQUEST"
            }),
        );
        h.settle();
        for i in 0..8 {
            call(
                "PutItem",
                serde_json::json!({
                    "TableName": "tbl",
                    "Item": {
                        "pk": {"S": format!("p{}", i % 3)},
                        "sk": {"N": i.to_string()},
                        "g": {"S": "x"},
                        "l": {"B": "AAE="},
                        "a": {"M": {"b": {"L": [{"N": "1"}, {"S": "s"}, {"SS": ["u", "v"]}]}}},
                        "n": {"NS": ["1", "2.5"]}
                    }
                }),
            );
        }
        h
    })
}
