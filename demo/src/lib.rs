//! `dinghuo demo`: loads a realistic sample tenant entirely through the command layer, then shows
//! the product document's refusals happening.
//!
//! Modules:
//! - [`catalog`]: the sample data (the brand, its products, dealers, people);
//! - [`load`]: onboarding as the seed describes it: tenant, apps, WeChat, catalog, customers,
//!   partners, partner contacts and their bindings;
//! - [`pricing`]: dealer pricing as DESIGN §4 describes it: categories, quantity rules, dealer
//!   levels, restricted assortments and price lists;
//! - [`orders`]: orders placed by bound contacts and driven through every state;
//! - [`tour`]: a quick order pasted as text, a reorder, and an order placed on a dealer's
//!   behalf by an employee, each quoted first;
//! - [`refusals`]: each rule really attempted against, with the code it must answer;
//! - [`refusal_check`]: what a refusal must look like (its code, no event appended), shared with
//!   the test suites;
//! - [`report`]: counts read back from the event store, and the printed summary;
//! - [`world`]: the demo's bookkeeping of what it loaded (ids and names).
//!
//! Nothing here writes SQL except the read-only event counts: every record is made by a command,
//! so the demo doubles as a living check of the rules. It fails (and the process exits non-zero)
//! when a command that should succeed is refused, or a refusal does not happen as documented.

mod catalog;
mod load;
mod orders;
mod pricing;
mod refusal_check;
mod refusals;
mod report;
mod tour;
pub mod world;

pub use refusal_check::{check_refused, RefusalFault, Watched};

use std::io::Write;
use std::time::Instant;

use dinghuo_commands::{CommandError, Commands};
use dinghuo_domain::ErrorCode;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand::rngs::StdRng;
use rand::SeedableRng;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Seed of every random choice (who orders what, which orders ship): one seed, one shape of
    /// data. Ids and timestamps still differ between runs.
    #[arg(long, default_value_t = 20_240_915)]
    pub seed: u64,

    /// How many orders the dealers place.
    #[arg(long, default_value_t = 240)]
    pub orders: usize,
}

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A command the story needs was refused or failed.
    #[error("{step}: {code}: {source}")]
    Command {
        step: String,
        code: ErrorCode,
        #[source]
        source: CommandError,
    },
    /// A rule of the product document was not enforced as documented.
    #[error("rule not enforced: {tried} should be refused with {expected}, but {outcome}")]
    RuleNotEnforced {
        tried: String,
        expected: ErrorCode,
        outcome: String,
    },
    /// A refused command left events behind.
    #[error("{tried} was refused with {code} yet appended {appended} event(s)")]
    RefusalAppended {
        tried: String,
        code: ErrorCode,
        appended: i64,
    },
    /// The event store does not hold what the commands reported.
    #[error("inconsistent state: {0}")]
    Inconsistent(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Attaches the step being performed to a command's error.
trait Step<T> {
    fn step(self, what: impl FnOnce() -> String) -> Result<T, DemoError>;
}

impl<T> Step<T> for Result<T, CommandError> {
    fn step(self, what: impl FnOnce() -> String) -> Result<T, DemoError> {
        self.map_err(|source| DemoError::Command {
            step: what(),
            code: source.code(),
            source,
        })
    }
}

/// Loads the demo, prints its summary, and answers the loaded world.
pub async fn run(
    commands: &Commands,
    args: &DemoArgs,
) -> Result<world::World, Box<dyn std::error::Error + Send + Sync>> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let progress = progress_bar(load::STEPS + pricing::STEPS + args.orders as u64 + tour::STEPS);

    let mut world = load::tenant(commands, &mut rng, &progress).await?;
    pricing::set_up(commands, &mut world, &progress).await?;
    let mut placed = orders::place(commands, &world, args.orders, &mut rng, &progress).await?;
    progress.set_message("quick order, reorder");
    let tour = tour::run(commands, &world, &mut placed).await?;
    progress.inc(tour::STEPS);
    progress.set_message("suspending a partner");
    load::suspend_partner(commands, &mut world).await?;
    progress.finish_and_clear();

    let shown = refusals::demonstrate(commands, &world, &mut placed, &mut rng).await?;
    let summary = report::gather(commands, &world, &placed, &shown).await?;
    let text = report::render(&summary, &world, &shown, &tour, args, started.elapsed());
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(world)
}

/// Drawn on stderr, so stdout stays the summary; indicatif hides it when stderr is no terminal.
fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {msg:24} [{bar:40}] {pos}/{len} {elapsed}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
