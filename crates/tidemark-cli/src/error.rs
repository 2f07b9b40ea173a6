//! Error type of the CLI, carrying the exact stderr text and exit code awscli v1 uses
//! (`awscli/clidriver.py` `main`: usage errors 2, everything else 255).

/// The `usage:` block argparse prints before an error (awscli/argparser.py `USAGE`).
pub const USAGE: &str = "\rNote: AWS CLI version 2, the latest major version of the AWS CLI, is now stable and recommended for general use. For more information, see the AWS CLI version 2 installation instructions at: https://docs.aws.amazon.com/cli/latest/userguide/install-cliv2.html\n\nusage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]\nTo see help text, you can run:\n\n  aws help\n  aws <command> help\n  aws <command> <subcommand> help\n";

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// argparse error: usage + `aws: error: <msg>`, exit 2.
    #[error("aws: error: {0}")]
    Usage(String),
    /// Unknown options: usage + blank line + message, exit 255.
    #[error("Unknown options: {0}")]
    UnknownOptions(String),
    /// Any other error: `\n<msg>\n`, exit 255 (`write_exception`).
    #[error("{0}")]
    Failure(String),
    /// A bug or an environment problem of our own.
    #[error("{0}")]
    Internal(String),
}

impl CliError {
    pub fn param(cli_name: &str, msg: impl std::fmt::Display) -> CliError {
        CliError::Failure(format!("Error parsing parameter '{cli_name}': {msg}"))
    }

    /// Exit code awscli uses for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            _ => 255,
        }
    }

    /// Exact bytes written to stderr.
    pub fn stderr_text(&self) -> String {
        match self {
            CliError::Usage(m) => format!("usage: {USAGE}aws: error: {m}\n"),
            CliError::UnknownOptions(m) => format!("usage: {USAGE}\nUnknown options: {m}\n"),
            CliError::Failure(m) | CliError::Internal(m) => format!("\n{m}\n"),
        }
    }
}
