//! Logging: `tracing` to stderr, human-readable or JSON, filtered by `RUST_LOG` (default: info
//! for Dinghuo's crates, warnings for the rest).

use tracing_subscriber::EnvFilter;

pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(
            "warn,dinghuo=info,dinghuo_api=info,dinghuo_commands=warn,dinghuo_projections=info",
        )
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
