//! The schema's SDL is checked in as `api/schema.graphql`, for client generators and reviewers.
//! This test fails when the file is stale; `DINGHUO_UPDATE_SCHEMA=1 cargo test -p dinghuo-api
//! --test schema_sdl` rewrites it.

use std::path::PathBuf;

#[test]
fn the_checked_in_sdl_is_the_schema() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let sdl = dinghuo_api::graphql::sdl();
    if std::env::var("DINGHUO_UPDATE_SCHEMA").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &sdl).expect("write api/schema.graphql");
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == sdl,
        "api/schema.graphql is stale: run `DINGHUO_UPDATE_SCHEMA=1 cargo test -p dinghuo-api \
         --test schema_sdl` and commit the file"
    );
}
