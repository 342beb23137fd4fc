//! Log output: one line per event, filtered by `RUST_LOG` (default `info,sqlx=warn`).
//!
//! Locally ([`init`]) lines go to stderr, coloured only on a terminal. In a Vercel function
//! ([`init_function`]) they are plain text, and a line logged while a request (or the work it
//! handed to `wait_until`) runs goes to the runtime's IPC socket as a `log` message of that
//! request, so Vercel files it under the invocation; other lines go to stderr.

use std::{future::Future, io::Write};

use tracing::{Level, Metadata};
use tracing_subscriber::{EnvFilter, fmt::MakeWriter};
use vercel_runtime::LogContext;

tokio::task_local! {
    /// The log context of the Vercel request being served, when there is one.
    static REQUEST_LOG: Option<LogContext>;
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"))
}

/// Installs the local log subscriber once (stderr); later calls do nothing.
pub fn init() {
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _already_set = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .try_init();
}

/// Installs the log subscriber of a Vercel function once: no colour codes, no timestamps
/// (Vercel stamps each line), and each request's lines sent to its IPC log.
pub fn init_function() {
    let _already_set = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(FunctionLogs)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .try_init();
}

/// Runs `work` with its log lines sent through `context` (a request's IPC log). `None` logs
/// to stderr, as outside any request.
pub fn in_request_log<F: Future>(context: Option<LogContext>, work: F) -> impl Future<Output = F::Output> {
    REQUEST_LOG.scope(context, work)
}

/// The current request's log context, to hand on to work spawned for it.
pub fn current_request_log() -> Option<LogContext> {
    REQUEST_LOG.try_with(Clone::clone).ok().flatten()
}

/// Where a function's formatted log lines go (see the module documentation).
struct FunctionLogs;

impl<'a> MakeWriter<'a> for FunctionLogs {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine { level: Level::INFO, text: Vec::new() }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> LogLine {
        LogLine { level: *meta.level(), text: Vec::new() }
    }
}

/// One formatted event, sent when the formatter drops it.
struct LogLine {
    level: Level,
    text: Vec<u8>,
}

impl Write for LogLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        if self.text.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.text);
        match current_request_log() {
            Some(log) => match self.level {
                Level::ERROR => log.error(&text),
                Level::WARN => log.warn(&text),
                Level::INFO => log.info(&text),
                _ => log.debug(&text),
            },
            None => {
                let _ignored = std::io::stderr().write_all(text.as_bytes());
            }
        }
    }
}
