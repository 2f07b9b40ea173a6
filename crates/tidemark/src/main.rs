//! The `tidemark` binary: `serve` (the AWS-wire server) and the admin commands. Thin: all
//! logic lives in the library crates.

mod backup_admin;
mod backup_cmd;
mod confine;
mod redshift_data_admin;
mod redshift_db;
mod serve;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "tidemark",
    version,
    about = "Local, faithful AWS DynamoDB backups and Redshift snapshots"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server speaking the DynamoDB and Redshift wire protocols.
    Serve(serve::ServeArgs),
    /// aws CLI v1-compatible DynamoDB client (`tidemark dynamodb <op> …`).
    Dynamodb,
    /// aws CLI v1-compatible Redshift client (`tidemark redshift <op> …`).
    Redshift,
    /// aws CLI v1-compatible Redshift Data API client (`tidemark redshift-data <op> …`).
    RedshiftData,
    /// Show or move the virtual clock of a running server (`show|set|advance|freeze|unfreeze`).
    Clock,
    /// Print a shell completion script (`bash` or `zsh`).
    Completion,
    /// Check, measure or garbage-collect the backup vault.
    #[command(subcommand)]
    Vault(tidemark_vault::cli::VaultCommand),
    /// Export a DynamoDB backup to, or import one from, DynamoDB's S3 export layout.
    #[command(subcommand)]
    Backup(backup_cmd::BackupCommand),
}

fn main() -> std::process::ExitCode {
    // Service commands (and aws's global options before them) go to the aws-compatible
    // client before clap: they keep aws CLI v1's own usage and error text, and start in
    // milliseconds.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if tidemark_cli::is_client_invocation(&args) {
        let code = tidemark_cli::run(args);
        return std::process::ExitCode::from(u8::try_from(code).unwrap_or(255));
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => {
            // Before anything starts: this may restart the process with the allocator's
            // settings (tidemark-wire/src/allocator.rs).
            tidemark_wire::apply_allocator_env();
            serve::run(args)
        }
        Command::Backup(cmd) => backup_cmd::run(cmd),
        // Dispatched before clap parses; listed only so `--help` shows them.
        Command::Dynamodb
        | Command::Redshift
        | Command::RedshiftData
        | Command::Clock
        | Command::Completion => {
            return std::process::ExitCode::from(2);
        }
        Command::Vault(cmd) => {
            return match tidemark_vault::cli::run(cmd, &mut std::io::stdout().lock()) {
                Ok(code) => std::process::ExitCode::from(u8::try_from(code).unwrap_or(1)),
                Err(e) => {
                    eprintln!("tidemark vault: {e}");
                    std::process::ExitCode::from(2)
                }
            };
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tidemark: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
