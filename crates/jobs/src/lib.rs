//! Background work on the portable jobs table: a registry of handlers by job kind,
//! recurring schedules, and the worker loop that runs inside `relais serve` or in
//! `relais worker` processes.
//!
//! A job is retried with exponential backoff until `max_attempts`; a failing or
//! panicking handler never stops the worker; a job is claimed by one worker only (see
//! `relais_store::jobs::claim`); a worker that dies loses its claim after the lease.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use relais_domain::calendrier::now_ms;
use relais_domain::schedule::Schedule;
use relais_store::{Db, StoreError, jobs as repo};
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Handler = Arc<dyn Fn(Db, String) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

/// What each kind of job does, and which kinds recur on a schedule.
#[derive(Default, Clone)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
    schedules: Vec<(String, Schedule)>,
}

impl Registry {
    /// The jobs every Relais instance runs.
    pub fn standard() -> Registry {
        Registry::default().recurring(
            PURGE_JOBS,
            Schedule::parse("30 3 * * *").expect("valid schedule"),
            |db, _| async move {
                let removed =
                    repo::purge_finished(&db, now_ms() - JOB_RETENTION.as_millis() as i64).await?;
                tracing::info!(removed, "tâches terminées purgées");
                Ok(())
            },
        )
    }

    pub fn handle<F, Fut>(mut self, kind: &str, handler: F) -> Registry
    where
        F: Fn(Db, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.handlers.insert(
            kind.to_string(),
            Arc::new(move |db, payload| Box::pin(handler(db, payload))),
        );
        self
    }

    /// A job kind that is also enqueued on `schedule` (UTC).
    pub fn recurring<F, Fut>(mut self, kind: &str, schedule: Schedule, handler: F) -> Registry
    where
        F: Fn(Db, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.schedules.push((kind.to_string(), schedule));
        self.handle(kind, handler)
    }
}

/// The recurring job that deletes finished jobs after [`JOB_RETENTION`].
pub const PURGE_JOBS: &str = "purge_jobs";
pub const JOB_RETENTION: Duration = Duration::from_secs(30 * 86_400);
/// Attempts of a job before it is marked failed for good.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;

/// Puts a job in the queue, to run as soon as a worker is free.
pub async fn enqueue(db: &Db, kind: &str, payload: &str) -> Result<i64, StoreError> {
    repo::enqueue(db, kind, payload, now_ms(), DEFAULT_MAX_ATTEMPTS).await
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Name of this worker in the jobs table (host, process, task).
    pub id: String,
    /// Pause between two looks at an empty queue.
    pub poll: Duration,
    /// After this long, a job still held by a worker is taken back (its worker died).
    pub lease: Duration,
    /// Delay before the first retry; doubled at each further attempt, at most one hour.
    pub backoff: Duration,
}

impl WorkerConfig {
    pub fn new(id: impl Into<String>) -> WorkerConfig {
        WorkerConfig {
            id: id.into(),
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(15 * 60),
            backoff: Duration::from_secs(10),
        }
    }

    fn retry_delay(&self, attempts: i64) -> Duration {
        let doublings = attempts.clamp(1, 20) as u32 - 1;
        self.backoff
            .saturating_mul(1 << doublings)
            .min(Duration::from_secs(3600))
    }
}

/// What happened to a claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Retry { error: String },
    Failed { error: String },
}

pub struct Worker {
    db: Db,
    registry: Arc<Registry>,
    config: WorkerConfig,
}

impl Worker {
    pub fn new(db: Db, registry: Registry, config: WorkerConfig) -> Worker {
        Worker {
            db,
            registry: Arc::new(registry),
            config,
        }
    }

    /// Records each recurring job's schedule (idempotent; safe from several workers).
    pub async fn register_schedules(&self) -> Result<(), StoreError> {
        let now_s = now_ms() / 1000;
        for (kind, schedule) in &self.registry.schedules {
            if let Some(next) = schedule.next_after(now_s) {
                repo::upsert_schedule(&self.db, kind, schedule.as_str(), next * 1000).await?;
            }
        }
        Ok(())
    }

    /// Enqueues the runs of recurring jobs due at `now` (Unix ms); returns how many this
    /// worker enqueued.
    pub async fn fire_due_schedules(&self, now: i64) -> Result<usize, StoreError> {
        let mut fired = 0;
        for (kind, due_at) in repo::due_schedules(&self.db, now).await? {
            let Some((_, schedule)) = self.registry.schedules.iter().find(|(k, _)| *k == kind)
            else {
                continue; // a schedule of another version of Relais
            };
            let next = schedule
                .next_after(now / 1000)
                .map_or(i64::MAX, |s| s * 1000);
            if repo::fire_schedule(&self.db, &kind, due_at, next, DEFAULT_MAX_ATTEMPTS).await? {
                fired += 1;
            }
        }
        Ok(fired)
    }

    /// Claims and runs one job; `None` when no job is due.
    pub async fn run_one(&self) -> Result<Option<(i64, Outcome)>, StoreError> {
        let now = now_ms();
        let stale_before = now - self.config.lease.as_millis() as i64;
        let Some(job) = repo::claim(&self.db, &self.config.id, now, stale_before).await? else {
            return Ok(None);
        };
        let result = match self.registry.handlers.get(&job.kind) {
            None => Err(format!("aucun traitement pour les tâches « {} »", job.kind)),
            Some(handler) => {
                // A task of its own, so that a panic is caught as a failure of this job.
                match tokio::spawn(handler(self.db.clone(), job.payload.clone())).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(join) => Err(format!("la tâche a paniqué : {}", panic_message(join))),
                }
            }
        };
        let now = now_ms();
        let outcome = match result {
            Ok(()) => {
                repo::mark_done(&self.db, job.id, now).await?;
                Outcome::Done
            }
            Err(error)
                if job.attempts < job.max_attempts
                    && self.registry.handlers.contains_key(&job.kind) =>
            {
                let retry_at = now + self.config.retry_delay(job.attempts).as_millis() as i64;
                repo::mark_failed(&self.db, job.id, &error, Some(retry_at), now).await?;
                tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, %error, "tâche en échec, nouvel essai prévu");
                Outcome::Retry { error }
            }
            Err(error) => {
                repo::mark_failed(&self.db, job.id, &error, None, now).await?;
                tracing::error!(job = job.id, kind = %job.kind, attempt = job.attempts, %error, "tâche abandonnée");
                Outcome::Failed { error }
            }
        };
        Ok(Some((job.id, outcome)))
    }

    /// Runs until `shutdown` turns true; the job under way is finished first.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        if let Err(e) = self.register_schedules().await {
            tracing::error!(error = %e, "planifications non enregistrées");
        }
        tracing::info!(worker = %self.config.id, "file de tâches démarrée");
        while !*shutdown.borrow() {
            if let Err(e) = self.fire_due_schedules(now_ms()).await {
                tracing::error!(error = %e, "planifications non traitées");
            }
            let busy = match self.run_one().await {
                Ok(ran) => ran.is_some(),
                Err(e) => {
                    tracing::error!(error = %e, "file de tâches indisponible");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    _ = tokio::time::sleep(self.config.poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!(worker = %self.config.id, "file de tâches arrêtée");
    }
}

fn panic_message(join: tokio::task::JoinError) -> String {
    match join.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panique sans message".to_string()),
        Err(e) => e.to_string(),
    }
}
