//! `dinghuo token` end to end: the built binary, a fresh data directory, the secret file it
//! generates, and the library verifying what it minted.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use dinghuo_api::auth::{Claims, JwtSecret, Tokens, SECRET_ENV, SECRET_FILE};
use dinghuo_commands::Role;
use dinghuo_domain::TenantId;
use uuid::Uuid;

/// Runs `dinghuo --data-dir <dir> token <args>` with no secret or database in the environment.
fn token(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dinghuo"))
        .env_remove(SECRET_ENV)
        .env_remove("DATABASE_URL")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("token")
        .args(args)
        .output()
        .expect("the dinghuo binary runs")
}

/// The token printed on stdout, which must be the only thing there.
fn minted(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "exit status {}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "stdout should be the token alone:\n{stdout}"
    );
    lines[0].to_owned()
}

fn tokens_of(data_dir: &Path) -> Tokens {
    let secret = JwtSecret::resolve(None, data_dir).expect("the generated secret");
    Tokens::new(&secret)
}

#[test]
fn a_minted_token_verifies_to_the_actor_named_with_the_generated_secret() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data_dir = dir.path().join("data");
    let tenant = Uuid::now_v7();
    let subject = Uuid::now_v7();
    let output = token(
        &data_dir,
        &[
            "--role",
            "employee",
            "--tenant",
            &tenant.to_string(),
            "--subject",
            &subject.to_string(),
            "--ttl",
            "30m",
        ],
    );
    let token = minted(&output);

    let actor = tokens_of(&data_dir).verify(&token).expect("a valid token");
    assert_eq!(actor.id, subject);
    assert_eq!(actor.role, Role::Employee);
    assert_eq!(actor.tenant_id, Some(TenantId::from_uuid(tenant)));

    let mode = std::fs::metadata(data_dir.join(SECRET_FILE))
        .expect("the secret file exists")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "the secret file is {mode:o}");

    // The lifetime asked for, read from the claims themselves.
    let secret = JwtSecret::resolve(None, &data_dir).expect("the secret");
    let claims = jsonwebtoken::decode::<Claims>(
        &token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256),
    )
    .expect("decode")
    .claims;
    assert_eq!(claims.exp - claims.iat, 30 * 60);
    assert_eq!(claims.iss, "dinghuo");
}

#[test]
fn the_operator_token_has_no_tenant_and_a_fresh_subject_and_reuses_the_secret() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let first = minted(&token(dir.path(), &["--role", "operator"]));
    let second = minted(&token(dir.path(), &["--role", "operator"]));
    let tokens = tokens_of(dir.path());
    let first = tokens.verify(&first).expect("the first token is valid");
    let second = tokens.verify(&second).expect("the second token is valid");
    assert_eq!(first.role, Role::Operator);
    assert_eq!(first.tenant_id, None);
    assert_eq!(first.id.get_version_num(), 7);
    assert_ne!(first.id, second.id, "each token gets a subject of its own");
}

#[test]
fn contact_tokens_are_refused_by_the_cli() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let tenant = Uuid::now_v7().to_string();
    let output = token(dir.path(), &["--role", "contact", "--tenant", &tenant]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("contact tokens are not minted"), "{stderr}");
}

#[test]
fn an_operator_token_with_a_tenant_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let tenant = Uuid::now_v7().to_string();
    let output = token(dir.path(), &["--role", "operator", "--tenant", &tenant]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("drop --tenant"), "{stderr}");
}

#[test]
fn a_tenant_role_without_a_tenant_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = token(dir.path(), &["--role", "auditor"]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--tenant is required for the auditor role"),
        "{stderr}"
    );
}

#[test]
fn the_environment_secret_signs_instead_of_the_file() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let secret = "an-environment-secret-of-40-characters!!";
    let tenant = Uuid::now_v7();
    let output = Command::new(env!("CARGO_BIN_EXE_dinghuo"))
        .env(SECRET_ENV, secret)
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "token",
            "--role",
            "analyst",
            "--tenant",
            &tenant.to_string(),
        ])
        .output()
        .expect("the dinghuo binary runs");
    let token = minted(&output);
    let tokens = Tokens::new(&JwtSecret::from_bytes(secret.into()).expect("long enough"));
    let actor = tokens.verify(&token).expect("signed with the variable");
    assert_eq!(actor.role, Role::Analyst);
    assert!(!dir.path().join(SECRET_FILE).exists());
}

#[test]
fn a_short_environment_secret_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let output = Command::new(env!("CARGO_BIN_EXE_dinghuo"))
        .env(SECRET_ENV, "too-short")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["token", "--role", "operator"])
        .output()
        .expect("the dinghuo binary runs");
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("at least 32"), "{stderr}");
}

#[test]
fn a_secret_file_others_can_read_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    minted(&token(dir.path(), &["--role", "operator"]));
    let path = dir.path().join(SECRET_FILE);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let output = token(dir.path(), &["--role", "operator"]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("chmod 600"), "{stderr}");
}
