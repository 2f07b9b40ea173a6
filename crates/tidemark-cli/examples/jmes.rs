//! Test hook for tests/cli/test_jmespath.py: `jmes EXPR < doc.json` prints what
//! `aws … --query EXPR` prints for a response equal to the document (json output), through
//! the client's own `--query` compile and output path.

use std::io::Read;

use tidemark_cli::output::{OutputCtx, Response, emit};
use tidemark_cli::{CliError, Printer, StdPrinter};

fn run(expr: &str, printer: &mut dyn Printer) -> Result<(), CliError> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| CliError::Internal(e.to_string()))?;
    let doc: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| CliError::Internal(e.to_string()))?;
    let query = tidemark_cli::jmespath::Expression::compile(expr)
        .map_err(|e| CliError::Failure(format!("Bad value for --query {expr}: {e}")))?;
    let ctx = OutputCtx {
        output: "json".into(),
        query: Some(&query),
        color: false,
        op_name: "Test",
    };
    emit(printer, &ctx, Response::Single(doc))
}

fn main() {
    let expr = std::env::args().nth(1).unwrap_or_default();
    let mut p = StdPrinter::default();
    let code = match run(&expr, &mut p) {
        Ok(()) => 0,
        Err(e) => {
            p.err(&e.stderr_text());
            e.exit_code()
        }
    };
    p.flush();
    std::process::exit(code);
}
