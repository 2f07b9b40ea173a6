//! tidemark-dynamodb: DynamoDB's data values (`attr`), expression language (`expr`), and
//! the [`DynamoDbService`] behind the generated `DynamoDbApi` trait: tables, items, Query and
//! Scan, batches, transactions, tags, TTL.
//!
//! Module map: `table.rs` (the stored table record), `storage.rs` (item/index/counter layout
//! and `apply_write`, the one item write path), `write_core.rs` (the shared single-item
//! write), `read.rs` (the paged Query/Scan loop), `capacity.rs` (consumed capacity),
//! `jobs.rs`/`ttl.rs` (background work), `convert.rs` (model ↔ attribute values),
//! `error.rs` (error families → each operation's wire errors), and one file per resource for
//! the handlers.

pub mod attr;
mod backup;
mod batch;
mod capacity;
mod catalog;
pub mod convert;
mod describe;
mod error;
pub mod expr;
mod idempotency;
mod items;
mod jobs;
mod legacy;
mod query;
mod read;
mod service;
mod settings;
mod storage;
mod table;
mod table_update;
mod table_validate;
mod tables;
mod transact;
mod ttl;
mod write_core;

pub use jobs::SETTLE_KIND;
pub use service::DynamoDbService;
pub use ttl::{SWEEP_INTERVAL_SECS, SWEEP_KIND};
