//! `dinghuo demo` end to end: the built binary on a fresh SQLite data directory.

use std::path::PathBuf;
use std::process::Command;

/// A data directory of its own, removed when the test ends (pass or fail).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("dinghuo-demo-{}", uuid::Uuid::new_v4()));
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const REFUSALS: [&str; 11] = [
    "APP_NOT_ASSIGNED",
    "CONTACT_HAS_NO_PHONE",
    "PHONE_MISMATCH",
    "APP_NOT_ENABLED",
    "CUSTOMER_NOT_RECORDED",
    "PARTNER_SUSPENDED",
    "PERMISSION_DENIED",
    "PRODUCT_NOT_LISTED",
    "DUPLICATE_SKU",
    "INTERCONNECT_NOT_ENABLED",
    "INVALID_STATE",
];

const STATUSES: [&str; 6] = [
    "SUBMITTED",
    "CONFIRMED",
    "REJECTED",
    "SHIPPED",
    "RECEIVED",
    "CANCELLED",
];

/// The count printed on the summary line of `status`, e.g. `    SHIPPED   42`.
fn orders_in(stdout: &str, status: &str) -> Option<u32> {
    stdout.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some(status))
            .then(|| words.next()?.parse().ok())
            .flatten()
    })
}

#[test]
fn the_demo_loads_a_tenant_and_shows_every_refusal_of_the_product_document() {
    let data_dir = TempDir::new();
    let output = Command::new(env!("CARGO_BIN_EXE_dinghuo"))
        .env_remove("DATABASE_URL")
        .arg("--data-dir")
        .arg(&data_dir.0)
        .args(["demo", "--orders", "200"])
        .output()
        .expect("the dinghuo binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit status {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );

    for code in REFUSALS {
        assert!(
            stdout.contains(code),
            "the summary does not mention {code}:\n{stdout}"
        );
    }
    for status in STATUSES {
        let count = orders_in(&stdout, status);
        assert!(
            count.is_some_and(|n| n > 0),
            "no {status} orders in the summary ({count:?}):\n{stdout}"
        );
    }
    let total: u32 = STATUSES.iter().filter_map(|s| orders_in(&stdout, s)).sum();
    assert!(total >= 200, "only {total} orders:\n{stdout}");
    assert!(stdout.contains("15: 11 TENANTLESS, 4 TENANT"), "{stdout}");
}
