//! Code generated from `models/*.json` by `cargo run -p xtask -- codegen` (hand-written index).
//! Regenerate after changing a model; CI runs `codegen --check`.

pub mod dynamodb_api;
pub mod dynamodb_errors;
pub mod dynamodb_model;
pub mod dynamodb_shapes;
pub mod redshift_api;
pub mod redshift_data_api;
pub mod redshift_data_errors;
pub mod redshift_data_model;
pub mod redshift_data_shapes;
pub mod redshift_errors;
pub mod redshift_model;
pub mod redshift_shapes;
