//! The benchmarks' settings from the environment.

/// The count in environment variable `name` (`1_000_000` and `1,000,000` are read as 1000000),
/// or `default` when it is not set. Panics on anything else: a benchmark run with a mistyped
/// setting would measure something else than asked.
pub fn count(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(text) => text
            .replace(['_', ','], "")
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {text:?}")),
        Err(_) => default,
    }
}
