//! Files and directories that only the service's own user may open: the data directory, the
//! SQLite database with its `-wal`, `-shm` and `-journal` files, and the secrets beside them.
//! They hold argon2 hashes, full phone numbers and the outbox's sealed secrets.
//!
//! What is created here is created owner-only: directories 0700, files 0600. SQLite gives the
//! `-wal`, `-shm` and `-journal` files it creates the mode of the database file, so creating
//! that file 0600 before SQLite opens it is enough for all of them.
//!
//! What is found open to the group or others (versions before this one left the data directory
//! 0755 and the database 0644) is tightened, with a warning, rather than refused: these are the
//! service's own files, nothing the service needs is lost by closing them, and refusing would
//! stop every upgraded installation at its first start. A path whose mode cannot be changed (not
//! ours) is refused. The secret files are stricter (`dinghuo_api::auth::secret`): one found open
//! is refused, since whoever read it can sign tokens or open secrets until it is replaced.

use std::fs::{DirBuilder, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The mode of a directory created here.
pub const DIR_MODE: u32 = 0o700;
/// The mode of a file created here.
pub const FILE_MODE: u32 = 0o600;
/// The files SQLite keeps beside a database, each with the database's mode.
pub const SQLITE_SIDE_FILES: [&str; 3] = ["-wal", "-shm", "-journal"];

#[derive(Debug, thiserror::Error)]
pub enum PrivateError {
    #[error("cannot create {path} readable by its owner only: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} may be read by other users (mode {mode:04o}) and its mode cannot be changed: {source}; `chmod go-rwx` it or choose another place")]
    Tighten {
        path: PathBuf,
        mode: u32,
        source: std::io::Error,
    },
}

/// Creates the directory `path` (and any missing parent) with mode 0700, and tightens it if it
/// exists open to others. For a directory the service owns: the data directory.
pub fn private_dir(path: &Path) -> Result<(), PrivateError> {
    create_dir_all(path)?;
    tighten(path)
}

/// Creates what is missing of `path` with mode 0700; an existing directory is left as it is.
/// For the directory of a database named by URL, which may be shared with other things.
pub fn create_dir_all(path: &Path) -> Result<(), PrivateError> {
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(path)
        .map_err(|source| PrivateError::Create {
            path: path.to_path_buf(),
            source,
        })
}

/// Creates the file `path` empty with mode 0600 if it does not exist, and tightens it if it
/// exists open to others. Never truncates.
pub fn private_file(path: &Path) -> Result<(), PrivateError> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == ErrorKind::AlreadyExists => tighten(path),
        Err(source) => Err(PrivateError::Create {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Makes the SQLite database at `path` private before SQLite opens it: the file itself, and
/// the side files a previous run may have left (a `-wal` and `-shm` outlive a process that did
/// not close its last connection, and SQLite reuses them as they are).
pub fn private_sqlite_files(path: &Path) -> Result<(), PrivateError> {
    private_file(path)?;
    for suffix in SQLITE_SIDE_FILES {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let side = PathBuf::from(side);
        match std::fs::metadata(&side) {
            Ok(_) => tighten(&side)?,
            Err(error) if error.kind() == ErrorKind::NotFound => {}
            Err(source) => {
                return Err(PrivateError::Create { path: side, source });
            }
        }
    }
    Ok(())
}

/// Takes the group's and others' permissions off `path` if it has any, with a warning.
pub fn tighten(path: &Path) -> Result<(), PrivateError> {
    let metadata = std::fs::metadata(path).map_err(|source| PrivateError::Create {
        path: path.to_path_buf(),
        source,
    })?;
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    let tightened = mode & !0o077;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(tightened)).map_err(
        |source| PrivateError::Tighten {
            path: path.to_path_buf(),
            mode,
            source,
        },
    )?;
    tracing::warn!(
        path = %path.display(),
        was = %format!("{mode:04o}"),
        now = %format!("{tightened:04o}"),
        "other users could open this file or directory (left so by an earlier version?); \
         made it private to its owner"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(path: &Path) -> u32 {
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
    }

    #[test]
    fn a_new_directory_and_file_are_private_to_their_owner() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let dir = root.path().join("a").join("data");
        private_dir(&dir).expect("create");
        assert_eq!(mode_of(&dir), DIR_MODE);
        assert_eq!(mode_of(&root.path().join("a")), DIR_MODE);
        let file = dir.join("dinghuo.db");
        private_file(&file).expect("create");
        assert_eq!(mode_of(&file), FILE_MODE);
        assert_eq!(std::fs::metadata(&file).expect("stat").len(), 0);
    }

    #[test]
    fn an_open_directory_and_database_files_are_tightened_and_kept() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let dir = root.path().join("data");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let db = dir.join("dinghuo.db");
        for (path, mode) in [
            (db.clone(), 0o644),
            (dir.join("dinghuo.db-wal"), 0o664),
            (dir.join("dinghuo.db-shm"), 0o606),
        ] {
            std::fs::write(&path, b"content").expect("write");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        }
        private_dir(&dir).expect("tighten the directory");
        private_sqlite_files(&db).expect("tighten the files");
        assert_eq!(mode_of(&dir), 0o700);
        for name in ["dinghuo.db", "dinghuo.db-wal", "dinghuo.db-shm"] {
            let path = dir.join(name);
            assert_eq!(mode_of(&path), 0o600, "{name}");
            assert_eq!(
                std::fs::read(&path).expect("read"),
                b"content",
                "{name} kept"
            );
        }
        assert!(!dir.join("dinghuo.db-journal").exists(), "nothing created");
    }

    #[test]
    fn owner_only_modes_are_left_as_they_are() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let file = root.path().join("read-only");
        std::fs::write(&file, b"x").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).expect("chmod");
        private_file(&file).expect("already private");
        assert_eq!(mode_of(&file), 0o400);
    }

    #[test]
    fn an_existing_directory_named_by_a_url_is_not_touched() {
        let root = tempfile::tempdir().expect("a temporary directory");
        let shared = root.path().join("shared");
        std::fs::create_dir(&shared).expect("mkdir");
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        create_dir_all(&shared).expect("exists");
        assert_eq!(mode_of(&shared), 0o755);
    }
}
