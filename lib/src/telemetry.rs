//! Log output: one line per event on stderr, filtered by `RUST_LOG` (default `info`).

/// Installs the log subscriber once; later calls do nothing.
pub fn init() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let _already_set =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).try_init();
}
