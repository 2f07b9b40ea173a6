//! The allocator's settings at start: mimalloc (the server's global allocator, see
//! `server.rs`) reads its options from the environment before `main` runs.

use std::os::unix::process::CommandExt;

/// How long mimalloc waits before returning freed memory to the OS, in milliseconds. Its
/// default (1,000) purges only when the allocator is next busy, so an idle server kept
/// 100–500 MiB after a burst of large requests; with 0 memory goes back as it is freed
/// (`null 1200000 1` probe, debug: RSS after 168 → 39 MiB, docs/reliability.md).
const PURGE_DELAY: (&str, &str) = ("MIMALLOC_PURGE_DELAY", "0");

/// Makes sure the server runs with [`PURGE_DELAY`]. Options set in the running process would
/// come too late (mimalloc read them at start) and need `unsafe`, which this workspace
/// forbids; so when the variable is unset, the process replaces itself (same pid, arguments
/// and descriptors) with one that has it. A value the user set is kept. Returns when nothing
/// had to change, or when the re-exec failed (the server then runs with mimalloc's default,
/// and says so on stderr).
pub fn apply_allocator_env() {
    if std::env::var_os(PURGE_DELAY.0).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut cmd = std::process::Command::new(exe);
    if let Some(argv0) = args.next() {
        cmd.arg0(argv0);
    }
    let err = cmd.args(args).env(PURGE_DELAY.0, PURGE_DELAY.1).exec();
    eprintln!("tidemark: could not restart with {}: {err}", PURGE_DELAY.0);
}
