//! The `tidemark` binary: `serve` (the AWS-wire server) and the admin commands. Thin: all
//! logic lives in the library crates.

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
    /// Check, measure or garbage-collect the backup vault.
    #[command(subcommand)]
    Vault(tidemark_vault::cli::VaultCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
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
