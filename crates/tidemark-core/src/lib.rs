//! Ids, ARNs, accounts, request context and the virtual clock shared by every tidemark crate.
//!
//! Nothing here does I/O; persistence of the clock's state is the caller's job.

pub mod clock;
pub mod ids;

pub use clock::{Clock, ClockError, ClockState};
pub use ids::{AccountId, DEFAULT_ACCOUNT, DEFAULT_REGION, RequestContext};
pub use jiff::Timestamp;

/// The real wall clock. Only for things that must not follow virtual time: SigV4 skew
/// checks, log lines, benchmark timing. Logic reads [`Clock::now`].
#[allow(clippy::disallowed_methods)]
pub fn wall_now() -> Timestamp {
    Timestamp::now()
}

/// The default data directory: `$XDG_DATA_HOME/tidemark`, else `~/.local/share/tidemark`,
/// else `./.tidemark`. Shared by `serve` and the vault commands so both find the same state.
pub fn default_data_dir() -> std::path::PathBuf {
    use std::path::PathBuf;
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("tidemark");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".local/share/tidemark"),
        None => PathBuf::from(".tidemark"),
    }
}
