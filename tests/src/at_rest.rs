//! What lies on disk: the raw bytes of a SQLite database's files (the database, its write-ahead
//! log and its shared-memory index), to prove that a secret is in none of them, whatever page,
//! free space or log frame SQLite left it in.

use std::path::PathBuf;

/// The database file of a `sqlite://` URL (without its query), `None` for another backend.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let path = url.strip_prefix("sqlite://")?;
    Some(PathBuf::from(path.split('?').next().unwrap_or(path)))
}

/// One file's bytes at one moment.
#[derive(Clone)]
pub struct FileBytes {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for FileBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} bytes)", self.path.display(), self.bytes.len())
    }
}

impl FileBytes {
    /// Where `needle` first occurs, with the bytes around it (for a failure message).
    pub fn find(&self, needle: &[u8]) -> Option<(usize, String)> {
        if needle.is_empty() {
            return None;
        }
        let at = self
            .bytes
            .windows(needle.len())
            .position(|window| window == needle)?;
        let from = at.saturating_sub(40);
        let to = (at + needle.len() + 40).min(self.bytes.len());
        Some((
            at,
            String::from_utf8_lossy(&self.bytes[from..to]).into_owned(),
        ))
    }
}

/// The bytes of the database at `path` and of its `-wal`, `-shm` and `-journal` files, those
/// that exist now.
pub fn sqlite_files(path: &std::path::Path) -> Vec<FileBytes> {
    ["", "-wal", "-shm", "-journal"]
        .into_iter()
        .filter_map(|suffix| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let path = PathBuf::from(name);
            let bytes = std::fs::read(&path).ok()?;
            Some(FileBytes { path, bytes })
        })
        .collect()
}
