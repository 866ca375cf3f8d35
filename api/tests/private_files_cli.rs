//! Issue 15 item 8: `dinghuo serve`, the built binary, on the default SQLite database keeps its
//! data directory and every file in it private to its user — the database with its `-wal` and
//! `-shm` files, the JWT secret and the outbox key — whether it creates them or finds them left
//! open by an earlier version.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// A directory of its own, removed when the test ends (pass or fail).
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("dinghuo-private-{}", uuid::Uuid::new_v4()));
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `dinghuo serve`, killed when dropped.
struct Server {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// Starts it on `data_dir` and waits until it listens.
    fn start(data_dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dinghuo"))
            .env_remove("DATABASE_URL")
            .env_remove("DINGHUO_DATA_DIR")
            .env_remove("DINGHUO_JWT_SECRET")
            .env_remove("DINGHUO_OUTBOX_KEY")
            .env("RUST_LOG", "warn")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the dinghuo binary runs");
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(mut pipe) = child.stderr.take() {
            let stderr = stderr.clone();
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                stderr.lock().expect("not poisoned").push_str(&text);
            });
        }
        let (listening, told) = mpsc::channel();
        if let Some(pipe) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if line.starts_with("GraphiQL:") {
                        let _ = listening.send(());
                    }
                }
            });
        }
        let server = Self { child, stderr };
        if told.recv_timeout(Duration::from_secs(120)).is_err() {
            panic!("the server did not start:\n{}", server.stop());
        }
        server
    }

    /// Kills it (as a crash would: the `-wal` and `-shm` files stay) and answers its stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The reader thread ends with the pipe.
        std::thread::sleep(Duration::from_millis(100));
        let text = self.stderr.lock().expect("not poisoned").clone();
        text
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

const FILES: [&str; 5] = [
    "dinghuo.db",
    "dinghuo.db-wal",
    "dinghuo.db-shm",
    "jwt-secret",
    "outbox-key",
];

/// The data directory is 0700 and every file the server keeps in it 0600.
fn assert_private(data_dir: &Path) {
    let octal = |path: &Path| format!("{:04o}", mode_of(path));
    assert_eq!(octal(data_dir), "0700", "{}", data_dir.display());
    for name in FILES {
        assert_eq!(octal(&data_dir.join(name)), "0600", "{name}");
    }
}

#[test]
fn a_fresh_data_directory_and_every_file_the_server_writes_in_it_are_private() {
    let root = TempDir::new();
    let data_dir = root.0.join("data");
    let server = Server::start(&data_dir);
    // While it runs, with its write-ahead log and shared-memory index open.
    assert_private(&data_dir);
    let stderr = server.stop();
    assert!(
        !stderr.contains("made it private"),
        "nothing to tighten: {stderr}"
    );
}

#[test]
fn a_data_directory_an_earlier_version_left_open_is_made_private_with_a_warning() {
    let root = TempDir::new();
    let data_dir = root.0.join("data");
    Server::start(&data_dir).stop();
    // As versions before this one left them: the directory 0755, the database files 0644.
    chmod(&data_dir, 0o755);
    for name in ["dinghuo.db", "dinghuo.db-wal", "dinghuo.db-shm"] {
        chmod(&data_dir.join(name), 0o644);
    }

    let server = Server::start(&data_dir);
    assert_private(&data_dir);
    let stderr = server.stop();
    for name in ["dinghuo.db", "dinghuo.db-wal", "dinghuo.db-shm"] {
        let path = data_dir.join(name);
        assert!(
            stderr.lines().any(|line| line.contains("made it private")
                && line.contains(&path.display().to_string())
                && line.contains("0644")),
            "no warning for {name}: {stderr}"
        );
    }
    assert!(
        stderr.contains("0755"),
        "no warning for the directory: {stderr}"
    );
}

#[test]
fn a_secret_file_others_may_read_is_refused_and_the_server_does_not_start() {
    let root = TempDir::new();
    let data_dir = root.0.join("data");
    Server::start(&data_dir).stop();
    chmod(&data_dir.join("outbox-key"), 0o644);
    let output = Command::new(env!("CARGO_BIN_EXE_dinghuo"))
        .env_remove("DATABASE_URL")
        .env_remove("DINGHUO_DATA_DIR")
        .env_remove("DINGHUO_JWT_SECRET")
        .env_remove("DINGHUO_OUTBOX_KEY")
        .arg("--data-dir")
        .arg(&data_dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .expect("the dinghuo binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("outbox key file"), "{stderr}");
    assert!(stderr.contains("chmod 600"), "{stderr}");
    assert_eq!(
        mode_of(&data_dir.join("outbox-key")),
        0o644,
        "left for the operator to judge"
    );
}
