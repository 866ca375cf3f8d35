//! The command line: flags with `DINGHUO_*` environment fallbacks, and one function per
//! subcommand.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use dinghuo_commands::Commands;
use dinghuo_store::{Database, DatabaseSettings, SqliteDurability};

#[derive(Debug, Parser)]
#[command(
    name = "dinghuo",
    version,
    about = "Dinghuo: event-sourced B2B ordering"
)]
pub struct Cli {
    /// `postgres://…` or `sqlite://…`. Default: a SQLite file in the data directory.
    #[arg(long, global = true, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Where the default SQLite database, the generated JWT secret (`jwt-secret`) and outbox key
    /// (`outbox-key`) live; created if absent, private to its owner (0700, files 0600).
    #[arg(
        long,
        global = true,
        env = "DINGHUO_DATA_DIR",
        default_value = "./data"
    )]
    pub data_dir: PathBuf,

    /// Database pool size.
    #[arg(
        long,
        global = true,
        env = "DINGHUO_DB_POOL_SIZE",
        default_value_t = 16
    )]
    pub db_pool_size: u32,

    /// SQLite durability: `full` (an acknowledged order survives a power cut) or `normal`
    /// (about twice the write throughput; the last commits may be lost on power loss).
    #[arg(
        long,
        global = true,
        env = "DINGHUO_SQLITE_SYNCHRONOUS",
        default_value = "full"
    )]
    pub sqlite_synchronous: SqliteDurability,

    /// Log format: `text` or `json`.
    #[arg(
        long,
        global = true,
        env = "DINGHUO_LOG_FORMAT",
        default_value = "text"
    )]
    pub log_format: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the database migrations (also done by every other subcommand at start).
    Migrate,
    /// Load a realistic sample tenant through the command layer and show the product
    /// document's refusals happening.
    Demo(dinghuo_demo::DemoArgs),
    /// Serve the GraphQL API, and run the projections and the SMS dispatcher in-process.
    Serve(crate::server::ServeArgs),
    /// Inspect and maintain the read-model projections.
    #[command(subcommand)]
    Projections(crate::projections_cmd::ProjectionsCommand),
    /// Mint a bearer token for the operator, an admin, an employee, an auditor or an analyst;
    /// prints only the token.
    Token(crate::token_cmd::TokenArgs),
    /// Read the event log as an auditor: `audit export` writes a tenant's events as NDJSON.
    #[command(subcommand)]
    Audit(crate::audit_cmd::AuditCommand),
}

impl Cli {
    fn database_settings(&self) -> DatabaseSettings {
        DatabaseSettings {
            url: self.database_url.clone(),
            data_dir: self.data_dir.clone(),
            max_connections: self.db_pool_size,
            sqlite_synchronous: self.sqlite_synchronous,
        }
    }
}

/// Connects and migrates.
async fn open(cli: &Cli) -> Result<Database, Box<dyn std::error::Error>> {
    let db = Database::connect(&cli.database_settings()).await?;
    db.migrate().await?;
    Ok(db)
}

pub async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    // Minting a token needs the secret, not the database: it works before any migration and
    // on a machine that cannot reach the database.
    if let Command::Token(args) = &cli.command {
        return crate::token_cmd::run(&cli.data_dir, args);
    }
    let db = open(&cli).await?;
    match &cli.command {
        Command::Migrate => {
            println!("migrations applied ({})", db.backend_name());
        }
        Command::Demo(args) => {
            let commands = Commands::new(db.clone());
            dinghuo_demo::run(&commands, args)
                .await
                .map_err(|e| e as Box<dyn std::error::Error>)?;
        }
        Command::Projections(command) => {
            crate::projections_cmd::run(&db, &cli.data_dir, command).await?
        }
        Command::Audit(command) => crate::audit_cmd::run(&db, command).await?,
        Command::Serve(args) => crate::server::run(db.clone(), &cli.data_dir, args)
            .await
            .map_err(|e| e as Box<dyn std::error::Error>)?,
        Command::Token(_) => unreachable!("handled before connecting"),
    }
    db.close().await;
    Ok(())
}
