//! Fault tests under load (issue 16): a real server whose database connections go through a
//! [`Proxy`], 16 clients submitting orders with same-key retries ([`clients`]), and the checks
//! every fault must pass once the database is back: no acknowledged order lost, none stored
//! twice for one key, no `INTERNAL`, every projection's lag 0 and an order read back by its own
//! mutation within [`RECOVERY`], and read models equal to a rebuild from the log.
//!
//! A test reads: [`Rig::start`], [`Rig::start_load`], the fault through [`Rig::proxy`],
//! [`Rig::recovery`] at the moment the database is back, [`Load::stop`], [`Rig::check`].

pub mod clients;
mod counts;
mod recovery;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dinghuo_commands::{Actor, Role};
use tokio::time::Instant;
use uuid::Uuid;

pub use clients::{Ledger, Load};
pub use recovery::{Recovery, RECOVERY};

use clients::Client;
use counts::{Counts, OrderLog};

use crate::proxy::Proxy;
use crate::read_model::{dump, rebuild_differs, replayable_projections, settle_feed};
use crate::server::TestServer;
use crate::{Backend, TestDb, World};

/// Concurrent clients, each a distinct bound contact.
pub const CLIENTS: usize = 16;

/// How long, once the load has stopped, the projections may take to apply what it wrote.
const SETTLES_WITHIN: Duration = Duration::from_secs(30);

/// A server over a throwaway Postgres database, reached through a proxy, with a contact per
/// client and one more for the recovery probe.
pub struct Rig {
    pub test: TestDb,
    pub proxy: Proxy,
    pub server: Arc<TestServer>,
    product: String,
    tokens: Vec<String>,
    probe_token: String,
    ledger: Arc<Mutex<Ledger>>,
}

impl Rig {
    /// `None` when Postgres is unreachable outside CI (the test says loudly that it skipped).
    pub async fn start() -> Option<Self> {
        let test = TestDb::new(Backend::Postgres).await?;
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let (proxy, proxied) = Proxy::in_front_of(&test.url, 16).await;
        let server = Arc::new(TestServer::start(&proxied, &[]).await);
        let admin = world.admin_ctx();
        let mut tokens = Vec::with_capacity(CLIENTS + 1);
        for n in 0..=CLIENTS {
            let phone = format!("1390013{n:04}");
            let contact =
                World::add_bound_contact(&commands, &admin, world.tenant, world.partner, &phone)
                    .await;
            tokens.push(server.token(&Actor::in_tenant(
                contact.as_uuid(),
                Role::Contact,
                world.tenant,
            )));
        }
        let probe_token = tokens.pop().expect("the probe's token");
        Some(Self {
            test,
            proxy,
            server,
            product: world.products[0].to_string(),
            tokens,
            probe_token,
            ledger: Arc::default(),
        })
    }

    fn client(&self, token: &str, name: String) -> Client {
        Client {
            server: self.server.clone(),
            token: token.to_owned(),
            product: self.product.clone(),
            name,
            ledger: self.ledger.clone(),
        }
    }

    /// Starts [`CLIENTS`] clients submitting orders.
    pub fn start_load(&self) -> Load {
        // A run's keys are its own, should a database ever be reused.
        let run = Uuid::now_v7().simple().to_string();
        let clients = self
            .tokens
            .iter()
            .enumerate()
            .map(|(n, token)| self.client(token, format!("{run}-client{n}")))
            .collect();
        Load::start(clients, self.ledger.clone())
    }

    /// The moment the database is back: from here the server must recover within [`RECOVERY`].
    /// Watches, alongside the load, for every projection to apply everything stored by now
    /// (and `/readyz` to be ready), and for a fresh order (the probe contact's) to be read back
    /// by its own mutation.
    pub async fn recovery(&self) -> Recovery {
        let restored = Instant::now();
        let pool = recovery::postgres(&self.test.db);
        let head = recovery::head_of_log(pool).await;
        let probe = self.client(
            &self.probe_token,
            format!("{}-probe", Uuid::now_v7().simple()),
        );
        let (caught_up, read_back) = tokio::join!(
            recovery::until_caught_up(&self.server, pool, head, restored),
            recovery::until_read_back(&probe, restored)
        );
        Recovery {
            caught_up,
            read_back,
        }
    }

    /// Checks what the fault test promises, after the load stopped; prints the counts first,
    /// then fails with every promise broken.
    pub async fn check(self, fault: &str, ledger: Ledger, recovery: Recovery) {
        // Everything written is applied before the read models are compared with a rebuild.
        settle_feed(&self.test.db).await;
        let mut broken = Vec::new();
        if recovery::until_lag_zero(&self.server, SETTLES_WITHIN)
            .await
            .is_none()
        {
            broken.push(format!(
                "the projections did not apply the whole log within {SETTLES_WITHIN:?} of the load's end"
            ));
        }
        let log = OrderLog::read(&self.test.db).await;
        let counts = Counts::of(&ledger, &log, recovery, self.proxy.commit_cuts_made());
        eprintln!("{fault}: {counts}");
        self.server.stop().await;
        for projection in replayable_projections() {
            let live = dump(&self.test.db, projection.as_ref()).await;
            if let Some(difference) =
                rebuild_differs(&self.test.db, projection.as_ref(), &live).await
            {
                broken.push(difference);
            }
        }
        broken.extend(counts.broken_promises());
        assert!(
            broken.is_empty(),
            "{fault}: {} promise(s) broken:\n- {}",
            broken.len(),
            broken.join("\n- ")
        );
    }
}
