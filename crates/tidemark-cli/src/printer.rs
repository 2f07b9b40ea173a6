//! Output sink abstraction: the real process streams, or in-memory capture for tests.

use std::io::{IsTerminal, Write};

/// Where command output goes.
pub trait Printer {
    fn out(&mut self, s: &str);
    fn err(&mut self, s: &str);
    /// Whether stdout is a terminal (table colours, waiter progress).
    fn stdout_is_tty(&self) -> bool;
    /// Whether stderr is a terminal (waiter progress indicator).
    fn stderr_is_tty(&self) -> bool {
        false
    }
}

/// Buffered process stdout plus unbuffered stderr.
#[derive(Default)]
pub struct StdPrinter {
    buf: Vec<u8>,
}

impl StdPrinter {
    pub fn flush(&mut self) {
        let mut out = std::io::stdout().lock();
        // A closed pipe (e.g. `| head`) is not an error for a CLI, as in awscli.
        let _ = out.write_all(&self.buf);
        let _ = out.flush();
        self.buf.clear();
    }
}

impl Printer for StdPrinter {
    fn out(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }
    fn err(&mut self, s: &str) {
        self.flush();
        let _ = std::io::stderr().write_all(s.as_bytes());
    }
    fn stdout_is_tty(&self) -> bool {
        std::io::stdout().is_terminal()
    }
    fn stderr_is_tty(&self) -> bool {
        std::io::stderr().is_terminal()
    }
}

/// Captures both streams in memory.
#[derive(Default, Debug)]
pub struct CapturePrinter {
    pub stdout: String,
    pub stderr: String,
}

impl Printer for CapturePrinter {
    fn out(&mut self, s: &str) {
        self.stdout.push_str(s);
    }
    fn err(&mut self, s: &str) {
        self.stderr.push_str(s);
    }
    fn stdout_is_tty(&self) -> bool {
        false
    }
}
