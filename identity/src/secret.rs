//! The secrets kept outside the database, each from an environment variable or else from a file
//! of the data directory:
//! - the JWT secret, which signs and verifies tokens: `DINGHUO_JWT_SECRET` (its bytes, at least
//!   32), or the file `jwt-secret`;
//! - the outbox key, which seals the SMS outbox's pending secrets (initial passwords, binding
//!   codes; see `dinghuo_projections::outbox::seal`): `DINGHUO_OUTBOX_KEY` (64 hex characters),
//!   or the file `outbox-key`.
//!
//! Every node of a deployment must share both. A file is generated on first use (64 hex
//! characters from the operating system's random source) readable by its owner only, in a data
//! directory made private to its owner (`dinghuo_store::private`). A file that anyone else may
//! read or write is refused, as ssh refuses a private key: whoever can read the JWT secret can
//! mint an operator token, whoever can read the outbox key can open the pending passwords, and
//! tightening the file now would not undo that.

use std::ffi::OsStr;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use dinghuo_projections::outbox::{KeyError, OutboxKey};
use dinghuo_store::private::{self, PrivateError};
use rand::rngs::OsRng;
use rand::RngCore;

/// The environment variable that, when set, holds the JWT secret.
pub const SECRET_ENV: &str = "DINGHUO_JWT_SECRET";
/// The file in the data directory that holds the generated JWT secret.
pub const SECRET_FILE: &str = "jwt-secret";
/// The environment variable that, when set, holds the outbox key.
pub const OUTBOX_KEY_ENV: &str = "DINGHUO_OUTBOX_KEY";
/// The file in the data directory that holds the generated outbox key.
pub const OUTBOX_KEY_FILE: &str = "outbox-key";
/// HS256 needs a key at least as long as its hash (RFC 7518 §3.2); no secret file is shorter.
pub const MIN_SECRET_BYTES: usize = 32;

/// Random bytes in a generated secret (written as twice as many hex characters).
const GENERATED_BYTES: usize = 32;
/// A process that lost the race to create the file may read it before the winner has written
/// it: it reads again, this many times, this far apart.
const RACE_RETRIES: u32 = 50;
const RACE_PAUSE: Duration = Duration::from_millis(20);

/// Where one secret comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretSource {
    /// The environment variable that, when set, holds it.
    pub env: &'static str,
    /// Its file in the data directory otherwise.
    pub file: &'static str,
    /// Its name in messages.
    pub what: &'static str,
}

/// The JWT signing secret's.
pub const JWT_SECRET: SecretSource = SecretSource {
    env: SECRET_ENV,
    file: SECRET_FILE,
    what: "JWT secret",
};

/// The outbox key's.
pub const OUTBOX_KEY: SecretSource = SecretSource {
    env: OUTBOX_KEY_ENV,
    file: OUTBOX_KEY_FILE,
    what: "outbox key",
};

/// The signing secret. Never printed: `Debug` shows its length only.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtSecret(Vec<u8>);

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JwtSecret({} bytes, redacted)", self.0.len())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{SECRET_ENV} is {len} bytes long; it must be at least {MIN_SECRET_BYTES} (generate one with `openssl rand -hex 32`)")]
    EnvTooShort { len: usize },
    #[error("the secret is {len} bytes long; it must be at least {MIN_SECRET_BYTES}")]
    TooShort { len: usize },
    #[error("{origin}: {source}")]
    BadOutboxKey { origin: String, source: KeyError },
    #[error("the {what} file {path} holds {len} bytes; it must hold at least {MIN_SECRET_BYTES} (delete it to have a new one generated; what the old one signed or sealed stops working)")]
    FileTooShort {
        what: &'static str,
        path: PathBuf,
        len: usize,
    },
    #[error("the {what} file {path} may be read or written by other users (mode {mode:04o}); run `chmod 600 {path}`")]
    FileTooOpen {
        what: &'static str,
        path: PathBuf,
        mode: u32,
    },
    #[error("the {what} path {path} is not a regular file")]
    NotAFile { what: &'static str, path: PathBuf },
    #[error("the data directory: {0}")]
    DataDir(#[from] PrivateError),
    #[error("cannot create the {what} file {path}: {source}")]
    Create {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the {what} file {path}: {source}")]
    Read {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl JwtSecret {
    /// The secret in effect: `DINGHUO_JWT_SECRET`, else the data directory's file.
    pub fn load(data_dir: &Path) -> Result<Self, SecretError> {
        Self::resolve(std::env::var_os(SECRET_ENV).as_deref(), data_dir)
    }

    /// [`load`](Self::load) with the environment variable's value passed in, for tests.
    pub fn resolve(env_value: Option<&OsStr>, data_dir: &Path) -> Result<Self, SecretError> {
        match env_value {
            // Set but empty is refused too: silently falling back to the file would let two
            // nodes sign with different secrets.
            Some(value) => {
                Self::from_bytes(value.as_bytes().to_vec()).map_err(|error| match error {
                    SecretError::TooShort { len } => SecretError::EnvTooShort { len },
                    other => other,
                })
            }
            None => Self::load_or_create_file(data_dir),
        }
    }

    /// A secret from its bytes, refused when shorter than [`MIN_SECRET_BYTES`].
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SecretError> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(SecretError::TooShort { len: bytes.len() });
        }
        Ok(Self(bytes))
    }

    /// The secret of `data_dir/jwt-secret`, generating the file if it does not exist.
    pub fn load_or_create_file(data_dir: &Path) -> Result<Self, SecretError> {
        JWT_SECRET.load_or_create_file(data_dir).map(Self)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The outbox key in effect: `DINGHUO_OUTBOX_KEY`, else the data directory's file.
pub fn load_outbox_key(data_dir: &Path) -> Result<OutboxKey, SecretError> {
    resolve_outbox_key(std::env::var_os(OUTBOX_KEY_ENV).as_deref(), data_dir)
}

/// [`load_outbox_key`] with the environment variable's value passed in, for tests.
pub fn resolve_outbox_key(
    env_value: Option<&OsStr>,
    data_dir: &Path,
) -> Result<OutboxKey, SecretError> {
    // Set but empty is refused too (by the parse), as for the JWT secret.
    let (text, origin) = match env_value {
        Some(value) => (value.as_bytes().to_vec(), OUTBOX_KEY_ENV.to_owned()),
        None => (
            OUTBOX_KEY.load_or_create_file(data_dir)?,
            format!(
                "the outbox key file {}",
                data_dir.join(OUTBOX_KEY_FILE).display()
            ),
        ),
    };
    OutboxKey::from_hex(&text).map_err(|source| SecretError::BadOutboxKey { origin, source })
}

impl SecretSource {
    /// The secret of `data_dir/<file>` (its text, trimmed), generating the file if it does not
    /// exist. The data directory is created, or made, private to its owner.
    pub fn load_or_create_file(&self, data_dir: &Path) -> Result<Vec<u8>, SecretError> {
        private::private_dir(data_dir)?;
        let path = data_dir.join(self.file);
        match self.create(&path) {
            Ok(secret) => return Ok(secret),
            Err(error) if error.kind() == ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(SecretError::Create {
                    what: self.what,
                    path,
                    source,
                })
            }
        }
        for _ in 0..RACE_RETRIES {
            match self.read(&path) {
                Err(SecretError::FileTooShort { .. }) => std::thread::sleep(RACE_PAUSE),
                done => return done,
            }
        }
        self.read(&path)
    }

    /// Creates the file, failing with `AlreadyExists` if it is there: never overwrite a secret
    /// that may already have signed tokens or sealed secrets.
    fn create(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(private::FILE_MODE)
            .open(path)?;
        let mut random = [0u8; GENERATED_BYTES];
        OsRng
            .try_fill_bytes(&mut random)
            .map_err(std::io::Error::other)?;
        // The hex text itself is what is read back, so that it can be copied into the
        // environment variable of other nodes as is.
        let text: String = random.iter().map(|byte| format!("{byte:02x}")).collect();
        // One write: a racing reader sees nothing or the whole secret.
        let written = file
            .write_all(format!("{text}\n").as_bytes())
            .and_then(|()| file.sync_all());
        if let Err(error) = written {
            // An empty file would be refused forever after; leave none behind.
            let _ = std::fs::remove_file(path);
            return Err(error);
        }
        Ok(text.into_bytes())
    }

    /// Reads an existing secret file, refusing one that others may read or write.
    fn read(&self, path: &Path) -> Result<Vec<u8>, SecretError> {
        let what = self.what;
        let read_error = |source| SecretError::Read {
            what,
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(read_error)?;
        // Checked on the opened file, not the path, so it cannot be swapped in between.
        let metadata = file.metadata().map_err(read_error)?;
        if !metadata.is_file() {
            return Err(SecretError::NotAFile {
                what,
                path: path.to_path_buf(),
            });
        }
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(SecretError::FileTooOpen {
                what,
                path: path.to_path_buf(),
                mode,
            });
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(read_error)?;
        // The trailing newline (and any an editor adds) is not part of the secret.
        let secret = bytes.trim_ascii().to_vec();
        if secret.len() < MIN_SECRET_BYTES {
            return Err(SecretError::FileTooShort {
                what,
                path: path.to_path_buf(),
                len: secret.len(),
            });
        }
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::sync::{Arc, Barrier};

    use super::*;

    fn mode_of(path: &Path) -> u32 {
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
    }

    #[test]
    fn without_the_variable_a_private_secret_file_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data_dir = dir.path().join("data");
        let first = JwtSecret::resolve(None, &data_dir).expect("generate");
        let path = data_dir.join(SECRET_FILE);
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(first.as_bytes().len(), 2 * GENERATED_BYTES);
        assert!(first.as_bytes().iter().all(u8::is_ascii_hexdigit));
        let second = JwtSecret::resolve(None, &data_dir).expect("reuse");
        assert_eq!(first, second);
    }

    #[test]
    fn processes_racing_to_create_the_file_all_end_up_with_the_same_secret() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let racers = 8;
        let barrier = Arc::new(Barrier::new(racers));
        let handles: Vec<_> = (0..racers)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                let data_dir = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    barrier.wait();
                    JwtSecret::load_or_create_file(&data_dir)
                })
            })
            .collect();
        let secrets: Vec<JwtSecret> = handles
            .into_iter()
            .map(|handle| handle.join().expect("no panic").expect("a secret"))
            .collect();
        assert!(secrets.windows(2).all(|pair| pair[0] == pair[1]));
        assert_eq!(mode_of(&dir.path().join(SECRET_FILE)), 0o600);
    }

    #[test]
    fn a_secret_file_readable_by_the_group_or_others_is_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        JwtSecret::load_or_create_file(dir.path()).expect("generate");
        let path = dir.path().join(SECRET_FILE);
        for mode in [0o640, 0o604, 0o620, 0o644] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
            let error = JwtSecret::load_or_create_file(dir.path()).expect_err("refused");
            assert!(
                matches!(&error, SecretError::FileTooOpen { mode: m, .. } if *m == mode),
                "{mode:o}: {error}"
            );
            assert!(error.to_string().contains("chmod 600"), "{error}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).expect("chmod");
        JwtSecret::load_or_create_file(dir.path()).expect("owner read-only is fine");
    }

    #[test]
    fn a_secret_file_too_short_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join(SECRET_FILE);
        std::fs::write(&path, "short\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let error = JwtSecret::load_or_create_file(dir.path()).expect_err("refused");
        assert!(
            matches!(error, SecretError::FileTooShort { len: 5, .. }),
            "{error}"
        );
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "short\n");
    }

    #[test]
    fn the_variable_wins_over_the_file_and_creates_nothing() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let value = OsString::from("x".repeat(MIN_SECRET_BYTES));
        let secret = JwtSecret::resolve(Some(&value), dir.path()).expect("from the variable");
        assert_eq!(secret.as_bytes(), value.as_bytes());
        assert!(!dir.path().join(SECRET_FILE).exists());
    }

    #[test]
    fn a_variable_shorter_than_32_bytes_is_refused_even_when_empty() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for value in ["", "short", &"x".repeat(MIN_SECRET_BYTES - 1)] {
            let error =
                JwtSecret::resolve(Some(OsStr::new(value)), dir.path()).expect_err("refused");
            assert!(
                matches!(error, SecretError::EnvTooShort { len } if len == value.len()),
                "{error}"
            );
            assert!(error.to_string().contains(SECRET_ENV), "{error}");
        }
        assert!(!dir.path().join(SECRET_FILE).exists());
    }

    #[test]
    fn the_outbox_key_is_generated_once_beside_the_jwt_secret_in_a_private_directory() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data_dir = dir.path().join("data");
        let key = resolve_outbox_key(None, &data_dir).expect("generate");
        let jwt = JwtSecret::resolve(None, &data_dir).expect("generate");
        assert_eq!(mode_of(&data_dir), 0o700);
        let path = data_dir.join(OUTBOX_KEY_FILE);
        assert_eq!(mode_of(&path), 0o600);
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text.trim().len(), 64);
        assert_ne!(
            text.trim().as_bytes(),
            jwt.as_bytes(),
            "two secrets, not one"
        );
        // The same key on the next start: what it sealed opens.
        let sealed = key.seal("code:1", "123456").expect("sealed");
        let again = resolve_outbox_key(None, &data_dir).expect("reuse");
        let body = sealed.trim_start_matches(dinghuo_projections::outbox::SEALED_PREFIX);
        assert_eq!(again.open("code:1", body).as_deref(), Ok("123456"));
        // Its text works as the variable on another node.
        let copied = resolve_outbox_key(Some(OsStr::new(text.trim())), dir.path())
            .expect("from the variable");
        assert_eq!(copied.open("code:1", body).as_deref(), Ok("123456"));
    }

    #[test]
    fn an_outbox_key_that_is_not_64_hex_characters_or_whose_file_is_open_is_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        for value in ["", "short", &"x".repeat(64), &"ab".repeat(31)] {
            let error =
                resolve_outbox_key(Some(OsStr::new(value)), dir.path()).expect_err("refused");
            assert!(matches!(error, SecretError::BadOutboxKey { .. }), "{error}");
            assert!(error.to_string().contains(OUTBOX_KEY_ENV), "{error}");
            assert!(
                error.to_string().contains("openssl rand -hex 32"),
                "{error}"
            );
        }
        assert!(!dir.path().join(OUTBOX_KEY_FILE).exists());
        resolve_outbox_key(None, dir.path()).expect("generate");
        let path = dir.path().join(OUTBOX_KEY_FILE);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let error = resolve_outbox_key(None, dir.path()).expect_err("refused");
        assert!(
            matches!(
                &error,
                SecretError::FileTooOpen {
                    what: "outbox key",
                    ..
                }
            ),
            "{error}"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        std::fs::write(&path, "z".repeat(64)).expect("write");
        let error = resolve_outbox_key(None, dir.path()).expect_err("refused");
        assert!(error.to_string().contains(OUTBOX_KEY_FILE), "{error}");
    }

    #[test]
    fn an_existing_data_directory_open_to_others_is_made_private() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        JwtSecret::load_or_create_file(dir.path()).expect("generate");
        assert_eq!(mode_of(dir.path()), 0o700);
    }

    #[test]
    fn the_secret_never_prints() {
        let secret = JwtSecret::from_bytes(b"a-very-secret-value-of-32-bytes!".to_vec())
            .expect("long enough");
        assert!(!format!("{secret:?}").contains("secret-value"));
    }
}
