//! The HTTP shell of tidemark: the only crate that knows HTTP. It authenticates requests,
//! decodes them by the model (awsJson1_0, awsJson1_1 or awsQuery), calls the service traits generated
//! from the model, and renders results and errors exactly as AWS does.

pub mod admin;
mod allocator;
pub mod aws_query;
pub mod json;
pub mod listener;
pub mod query;
pub mod redshift_data;
pub mod server;
mod timeouts;
pub mod tls;
pub mod xml;

pub use admin::{Admin, AdminCall, ClockChange, ClockView};
pub use allocator::apply_allocator_env;
pub use axum::http::StatusCode;
pub use listener::{ConnectionLimits, serve};
pub use server::{DEFAULT_MAX_BODY, Services, app};
