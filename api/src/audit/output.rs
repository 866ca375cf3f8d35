//! Where an export is written: stdout, or a file that appears only once complete. The file is
//! written as a hidden temporary file in the same directory (so the final rename stays on one
//! filesystem and is atomic) and renamed over the target at the end; an export that fails or is
//! interrupted drops the temporary file and leaves any earlier file of that name untouched.
//!
//! The file is created readable by its owner only (0600): the log holds names and phone numbers.

use std::io::{BufWriter, Stdout, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot create a temporary file in {dir}: {source}")]
    TempFile {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {target}: {source}")]
    Write {
        target: String,
        source: std::io::Error,
    },
    #[error("cannot move the finished export to {path}: {source}")]
    Persist {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub enum Output {
    Stdout(BufWriter<Stdout>),
    File {
        writer: BufWriter<NamedTempFile>,
        path: PathBuf,
    },
}

impl Output {
    pub fn stdout() -> Self {
        Self::Stdout(BufWriter::new(std::io::stdout()))
    }

    /// A temporary file next to `path`, renamed to `path` by [`finish`](Self::finish).
    pub fn file(path: &Path) -> Result<Self, OutputError> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".dinghuo-export-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|source| OutputError::TempFile {
                dir: dir.to_path_buf(),
                source,
            })?;
        Ok(Self::File {
            writer: BufWriter::new(temp),
            path: path.to_path_buf(),
        })
    }

    /// Where the export goes, for messages.
    pub fn describe(&self) -> String {
        match self {
            Self::Stdout(_) => "stdout".to_owned(),
            Self::File { path, .. } => path.display().to_string(),
        }
    }

    /// Flushes; for a file, makes it durable and renames it into place.
    pub fn finish(self) -> Result<(), OutputError> {
        let target = self.describe();
        let write_error = |source| OutputError::Write {
            target: target.clone(),
            source,
        };
        match self {
            Self::Stdout(mut writer) => writer.flush().map_err(write_error),
            Self::File { writer, path } => {
                let temp = writer
                    .into_inner()
                    .map_err(|error| write_error(error.into_error()))?;
                temp.as_file().sync_all().map_err(write_error)?;
                temp.persist(&path).map_err(|error| OutputError::Persist {
                    path,
                    source: error.error,
                })?;
                Ok(())
            }
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Stdout(writer) => writer.write(buf),
            Self::File { writer, .. } => writer.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Stdout(writer) => writer.flush(),
            Self::File { writer, .. } => writer.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_finished_file_export_replaces_the_target_and_is_private() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("events.ndjson");
        std::fs::write(&path, "old\n").expect("an earlier export");
        let mut output = Output::file(&path).expect("open");
        output.write_all(b"{}\n").expect("write");
        output.finish().expect("finish");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "{}\n");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(entries(dir.path()), ["events.ndjson"]);
    }

    #[test]
    fn an_abandoned_file_export_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("events.ndjson");
        std::fs::write(&path, "old\n").expect("an earlier export");
        let mut output = Output::file(&path).expect("open");
        output.write_all(b"{}\n").expect("write");
        drop(output);
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "old\n");
        assert_eq!(entries(dir.path()), ["events.ndjson"]);
    }
}
