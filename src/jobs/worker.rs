//! The job worker: claims due jobs with a lease, runs each with the handler registered for
//! its kind, records the outcome, and runs the periodic tasks.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use tokio::sync::{broadcast, watch};

use super::store::{self, Job, Recorded, status};
use crate::db::{Db, DbConnection, new_id, now};
use crate::error::AppError;

/// Transient failures are retried this many times (with backoff capped at `MAX_DELAY`,
/// about two days), then the job is marked failed.
pub const MAX_ATTEMPTS: i32 = 200;
/// The longest wait between two attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

/// What one run of a job came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Finished: the job is `done`.
    Done,
    /// Did not work this time but may later (a timeout, a server that is down): the job
    /// stays `pending` and is tried again after a backoff, at most `MAX_ATTEMPTS` times.
    Retry(String),
    /// Cannot work (bad input, a permanent refusal): the job is `failed` at once.
    Failed(String),
}

type Run = Arc<dyn Fn(Job) -> BoxFuture<'static, Outcome> + Send + Sync>;

/// Runs the jobs of one kind.
#[derive(Clone)]
pub struct Handler {
    run: Run,
    /// The longest one run may take. The worker starts a job only while at least
    /// `min(takes_at_most, lease / 2)` of its lease is left.
    takes_at_most: Duration,
}

impl Handler {
    /// `run` gets the claimed job (its payload, id, attempts so far, creation time).
    pub fn new<F, Fut>(takes_at_most: Duration, run: F) -> Handler
    where
        F: Fn(Job) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        Handler {
            run: Arc::new(move |job| Box::pin(run(job))),
            takes_at_most,
        }
    }
}

/// What a capability does when a job about one of its rows is done or fails for good.
/// Runs inside the transaction that records the outcome.
pub type Hook = fn(&mut DbConnection, subject_id: &str, detail: &str) -> Result<(), AppError>;

/// Hooks by subject kind, registered by the application (the jobs module knows no capability).
#[derive(Clone, Default)]
pub struct JobHooks {
    pub done: HashMap<&'static str, Hook>,
    pub failed: HashMap<&'static str, Hook>,
}

/// The work of a periodic task, given the write transaction it runs in.
pub type PeriodicRun = Arc<dyn Fn(&mut DbConnection) -> Result<usize, AppError> + Send + Sync>;

/// Work the worker runs on a timer, in one write transaction each time: once when the
/// worker starts, then every `every`. `run` returns how many things it did (e.g. emails
/// queued), for the log.
#[derive(Clone)]
pub struct PeriodicTask {
    pub name: &'static str,
    pub every: Duration,
    pub run: PeriodicRun,
}

impl PeriodicTask {
    pub fn new(
        name: &'static str,
        every: Duration,
        run: impl Fn(&mut DbConnection) -> Result<usize, AppError> + Send + Sync + 'static,
    ) -> PeriodicTask {
        PeriodicTask {
            name,
            every,
            run: Arc::new(run),
        }
    }
}

#[derive(Clone)]
pub struct JobWorker {
    db: Db,
    lease: Duration,
    retry_base: Duration,
    handlers: Arc<HashMap<&'static str, Handler>>,
    hooks: JobHooks,
    periodic: Arc<Vec<PeriodicTask>>,
    name: String,
}

impl JobWorker {
    /// A worker that holds each claim for `lease` and retries after `retry_base`, doubled
    /// for each earlier attempt. It has no handlers, hooks or periodic tasks yet.
    pub fn new(db: Db, lease: Duration, retry_base: Duration) -> JobWorker {
        JobWorker {
            db,
            lease,
            retry_base,
            handlers: Arc::default(),
            hooks: JobHooks::default(),
            periodic: Arc::default(),
            name: format!("worker-{}", &new_id()[24..]),
        }
    }

    /// Runs the jobs of `kind` with `handler`.
    pub fn handle(mut self, kind: &'static str, handler: Handler) -> JobWorker {
        Arc::make_mut(&mut self.handlers).insert(kind, handler);
        self
    }

    pub fn with_hooks(mut self, hooks: JobHooks) -> JobWorker {
        self.hooks = hooks;
        self
    }

    /// Adds tasks to run on a timer (see `PeriodicTask`).
    pub fn with_periodic(mut self, tasks: Vec<PeriodicTask>) -> JobWorker {
        Arc::make_mut(&mut self.periodic).extend(tasks);
        self
    }

    async fn run_periodic(&self, task: &PeriodicTask) {
        let run = task.run.clone();
        match self.db.write(move |conn| run(conn)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(task = task.name, done = n, "periodic task"),
            Err(e) => tracing::error!(task = task.name, error = %e, "periodic task failed"),
        }
    }

    /// Runs due jobs and periodic tasks until told to stop. A stop request is honoured
    /// between jobs.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        // Woken by committed `JobsQueued` events; the poll below covers other instances.
        let mut wake = self.db.bus().subscribe();
        tracing::info!(worker = %self.name, "job worker started");
        let mut last_run: Vec<Option<Instant>> = vec![None; self.periodic.len()];
        loop {
            if *stop.borrow() {
                break;
            }
            for (task, last) in self.periodic.iter().zip(last_run.iter_mut()) {
                if last.is_none_or(|t| t.elapsed() >= task.every) {
                    self.run_periodic(task).await;
                    *last = Some(Instant::now());
                }
            }
            let handled = match self.process_batch(Some(&stop)).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "job batch failed");
                    0
                }
            };
            if handled == 0 {
                tokio::select! {
                    received = wake.recv() => {
                        if matches!(received, Err(broadcast::error::RecvError::Closed)) {
                            break;
                        }
                    }
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.changed() => {}
                }
            }
        }
        tracing::info!(worker = %self.name, "job worker stopped");
    }

    /// Runs every job due now (not the periodic tasks); for tests and the CLI.
    pub async fn drain(&self) -> Result<usize, AppError> {
        let mut total = 0;
        loop {
            let n = self.process_batch(None).await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Claims one batch and runs it. Returns how many jobs were handled.
    async fn process_batch(&self, stop: Option<&watch::Receiver<bool>>) -> Result<usize, AppError> {
        let claim = format!("{}:{}", self.name, new_id());
        let lease =
            chrono::Duration::from_std(self.lease).unwrap_or_else(|_| chrono::Duration::minutes(2));
        let claimed = {
            let claim = claim.clone();
            self.db
                .write(move |conn| store::claim(conn, &claim, lease))
                .await?
        };
        let mut handled = 0;
        let total = claimed.len();
        for job in claimed {
            let handler = self.handlers.get(job.kind.as_str());
            let needed = handler.map_or(Duration::ZERO, |h| h.takes_at_most.min(self.lease / 2));
            let needed = chrono::Duration::from_std(needed).unwrap_or_default();
            let until = job.locked_until.unwrap_or_else(now);
            let stopping = stop.is_some_and(|s| *s.borrow());
            if stopping || now() + needed >= until {
                // Stopping, or too little lease left to finish safely: hand the rest back.
                break;
            }
            let outcome = match handler {
                Some(handler) => (handler.run)(job.clone()).await,
                None => Outcome::Failed(format!("no handler for jobs of kind {:?}", job.kind)),
            };
            self.record(&job, &claim, outcome).await?;
            handled += 1;
        }
        if handled < total {
            self.db
                .write(move |conn| store::release(conn, &claim))
                .await?;
        }
        Ok(handled)
    }

    async fn record(&self, job: &Job, claim: &str, outcome: Outcome) -> Result<(), AppError> {
        let attempts = job.attempts + 1;
        let outcome = match outcome {
            Outcome::Retry(reason) if attempts >= MAX_ATTEMPTS => {
                Outcome::Failed(format!("gave up after {MAX_ATTEMPTS} attempts: {reason}"))
            }
            other => other,
        };
        let delay = backoff(self.retry_base, attempts);
        match &outcome {
            Outcome::Done => tracing::info!(job_id = %job.id, kind = %job.kind, "job done"),
            Outcome::Retry(reason) => {
                tracing::warn!(job_id = %job.id, kind = %job.kind, attempts, retry_in = ?delay, %reason, "job not done, will retry")
            }
            Outcome::Failed(reason) => {
                tracing::warn!(job_id = %job.id, kind = %job.kind, %reason, "job failed for good")
            }
        }
        let id = job.id.clone();
        let claim = claim.to_string();
        let subject = job.subject_kind.clone().zip(job.subject_id.clone());
        let hooks = self.hooks.clone();
        self.db
            .write(move |conn| {
                let at = now();
                let (status, detail, next) = match &outcome {
                    Outcome::Done => (status::DONE, None, at),
                    Outcome::Retry(reason) => (
                        status::PENDING,
                        Some(reason.as_str()),
                        at + chrono::Duration::from_std(delay).unwrap_or_default(),
                    ),
                    Outcome::Failed(reason) => (status::FAILED, Some(reason.as_str()), at),
                };
                let recorded = store::record(
                    conn,
                    &id,
                    &claim,
                    Recorded {
                        status,
                        attempts,
                        next_attempt_at: next,
                        detail,
                    },
                )?;
                if !recorded {
                    // The lease ran out and another worker owns the row now; it records the result.
                    return Ok(());
                }
                if let Some((kind, subject_id)) = subject {
                    let hook = match status {
                        status::DONE => hooks.done.get(kind.as_str()),
                        status::FAILED => hooks.failed.get(kind.as_str()),
                        _ => None,
                    };
                    if let Some(hook) = hook {
                        hook(conn, &subject_id, detail.unwrap_or_default())?;
                    }
                }
                Ok(())
            })
            .await
    }
}

/// `base`, doubled for each earlier attempt, at most `MAX_DELAY`.
fn backoff(base: Duration, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    base.saturating_mul(2u32.saturating_pow(exponent))
        .min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 1), Duration::from_secs(30));
        assert_eq!(backoff(base, 2), Duration::from_secs(60));
        assert_eq!(backoff(base, 4), Duration::from_secs(240));
        assert_eq!(backoff(base, 50), MAX_DELAY);
    }
}
