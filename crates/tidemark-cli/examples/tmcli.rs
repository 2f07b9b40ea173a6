//! Development entry point: `tmcli dynamodb list-tables` runs `tidemark_cli::run` without the
//! main `tidemark` binary (used by tests/cli when `target/debug/tidemark` is not wired yet).

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    std::process::exit(tidemark_cli::run(args));
}
