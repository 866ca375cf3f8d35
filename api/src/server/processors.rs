//! The projection runners and the SMS dispatcher, started with the server and stopped after it
//! stops accepting requests. Each is started again after a transient database error, with
//! backoff (`dinghuo_projections::supervise`).

use dinghuo_projections::outbox::{Dispatcher, OutboxKey};
use dinghuo_projections::{models, supervise, Backoff, Progress, Runner, Wakeup};
use dinghuo_store::Database;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{Error, ServeArgs};

pub struct Processors {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    listener: Option<JoinHandle<()>>,
}

pub fn start(
    db: &Database,
    wakeup: &Wakeup,
    progress: &Progress,
    outbox_key: &OutboxKey,
    args: &ServeArgs,
) -> Result<Processors, Error> {
    let dispatcher = Dispatcher::from_settings(db.clone(), args.sms()?, outbox_key.clone())?;
    let (stop, stopped) = watch::channel(false);
    let listener = wakeup.listen(db);
    let mut tasks = Vec::new();
    // One runner for every projection and the SMS reactor: one feed read and one transaction
    // per page for all of them (see `dinghuo_projections::runner`). Started again after a
    // transient database error (`dinghuo_projections::supervise`); a projection that fails on
    // an event is recorded as failed by the runner, and the others go on.
    let (db, wakeup, progress, key) = (
        db.clone(),
        wakeup.clone(),
        progress.clone(),
        outbox_key.clone(),
    );
    let runner_stopped = stopped.clone();
    tasks.push(tokio::spawn(async move {
        // While the runners are restarted after a lost connection, readers of this process
        // wait for them rather than conclude that nobody runs the projections.
        let _supervising = progress.supervised_here();
        let supervised = supervise(
            "projections",
            Backoff::default(),
            runner_stopped.clone(),
            || {
                Runner::group(
                    db.clone(),
                    models::all_with_key(key.clone()),
                    wakeup.clone(),
                )
                .with_progress(progress.clone())
                .run(runner_stopped.clone())
            },
        )
        .await;
        if let Err(error) = supervised {
            tracing::error!(%error, "projections stopped");
        }
    }));
    tasks.push(tokio::spawn(dispatcher.run(stopped)));
    Ok(Processors {
        stop,
        tasks,
        listener,
    })
}

impl Processors {
    /// Asks every processor to stop after its current batch, and waits for them.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            if let Err(error) = task.await {
                tracing::error!(%error, "a processor task failed");
            }
        }
        if let Some(listener) = self.listener {
            listener.abort();
        }
        tracing::info!("processors stopped");
    }
}
