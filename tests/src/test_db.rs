use std::path::PathBuf;
use std::time::Duration;

use dinghuo_commands::Commands;
use dinghuo_store::{Database, DatabaseSettings};
use sqlx::postgres::PgPoolOptions;
use sqlx::Executor;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the throwaway Postgres databases are created.
fn postgres_admin_url() -> String {
    std::env::var("DINGHUO_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A fresh, migrated database that disappears when dropped.
pub struct TestDb {
    pub db: Database,
    pub backend: Backend,
    /// The URL, for tests that start processes or open a second pool.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Directory(PathBuf),
    PostgresDatabase(String),
}

impl TestDb {
    /// `None` when Postgres is unreachable outside CI (the test then says loudly that it
    /// skipped); under `CI=true` an unreachable Postgres fails the test instead.
    pub async fn new(backend: Backend) -> Option<Self> {
        Self::with_pool_size(backend, 16).await
    }

    pub async fn with_pool_size(backend: Backend, max_connections: u32) -> Option<Self> {
        let (url, cleanup) = match backend {
            Backend::Sqlite => {
                let dir =
                    std::env::temp_dir().join(format!("dinghuo-test-{}", Uuid::now_v7().simple()));
                let url = format!("sqlite://{}", dir.join("dinghuo.db").display());
                (url, Cleanup::Directory(dir))
            }
            Backend::Postgres => {
                let name = format!("dinghuo_test_{}", Uuid::now_v7().simple());
                let admin = match PgPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(5))
                    .connect(&postgres_admin_url())
                    .await
                {
                    Ok(pool) => pool,
                    Err(error) if !in_ci() => {
                        eprintln!(
                            "\n*** SKIPPED: Postgres is unreachable at {} ({error}); \
                             this Postgres test did not run. Set CI=true to make this a failure. ***\n",
                            postgres_admin_url()
                        );
                        return None;
                    }
                    Err(error) => panic!("Postgres is unreachable under CI=true: {error}"),
                };
                admin
                    .execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create the throwaway test database");
                admin.close().await;
                let base = postgres_admin_url();
                let url = match base.rsplit_once('/') {
                    Some((server, _)) => format!("{server}/{name}"),
                    None => panic!("DINGHUO_TEST_POSTGRES_URL has no database part: {base}"),
                };
                (url, Cleanup::PostgresDatabase(name))
            }
        };
        let settings = DatabaseSettings {
            url: Some(url.clone()),
            max_connections,
            ..DatabaseSettings::default()
        };
        let db = Database::connect(&settings)
            .await
            .expect("connect to the test database");
        db.migrate().await.expect("migrate the test database");
        Some(Self {
            db,
            backend,
            url,
            cleanup,
        })
    }

    /// The write side over this database, with the default retry policy.
    pub fn commands(&self) -> Commands {
        Commands::new(self.db.clone())
    }

    /// Number of rows in the event log.
    pub async fn event_count(&self) -> i64 {
        let sql = "SELECT COUNT(*) FROM events";
        match &self.db {
            Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
            Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        }
        .expect("count events")
    }

    /// `(event_type, sequence)` of one aggregate's stored events, in sequence order.
    pub async fn stream(&self, aggregate_type: &str, aggregate_id: &str) -> Vec<(String, i64)> {
        let sql = "SELECT event_type, sequence FROM events \
                   WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence";
        match &self.db {
            Database::Postgres(pool) => {
                sqlx::query_as(sql)
                    .bind(aggregate_type)
                    .bind(aggregate_id)
                    .fetch_all(pool)
                    .await
            }
            Database::Sqlite(pool) => {
                sqlx::query_as(sql)
                    .bind(aggregate_type)
                    .bind(aggregate_id)
                    .fetch_all(pool)
                    .await
            }
        }
        .expect("read a stream")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Directory(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::PostgresDatabase(name) => {
                // Drop runs outside async; a short-lived runtime on its own thread does the work.
                let name = name.clone();
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .ok()?;
                    runtime.block_on(async {
                        let admin = PgPoolOptions::new()
                            .max_connections(1)
                            .connect(&postgres_admin_url())
                            .await
                            .ok()?;
                        admin
                            .execute(
                                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                            )
                            .await
                            .ok()?;
                        admin.close().await;
                        Some(())
                    })
                })
                .join();
                if !matches!(dropped, Ok(Some(()))) {
                    eprintln!("warning: could not drop a throwaway test database");
                }
            }
        }
    }
}
