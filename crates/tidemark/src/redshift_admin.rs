//! Admin routes for Redshift cluster volumes (`/_tidemark/redshift/…`). None yet: every
//! path falls through to the admin API's 404.

use tidemark_wire::{AdminCall, StatusCode};

use crate::serve::AdminContext;

/// Answers the calls this module owns; `None` for any other path.
pub fn route(
    ctx: &AdminContext,
    call: &AdminCall,
) -> Option<Result<(StatusCode, serde_json::Value), String>> {
    let _ = (ctx, call);
    None
}
