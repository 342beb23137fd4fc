//! The engine: advances crawls in short invocations. Each step claims a batch of frontier
//! rows under a lease (`FOR UPDATE SKIP LOCKED`), fetches them politely, and writes every
//! outcome in one transaction that first re-takes the rows' leases, so a worker that lost
//! its lease (killed, or too slow) writes nothing and no page is recorded twice.

use std::{collections::HashMap, sync::Arc, time::Duration};

use futures_util::StreamExt;
use sqlx::types::Json;
use tokio::{sync::Mutex, time::Instant};
use url::Url;
use uuid::Uuid;

use super::{
    CrawlOptions, CrawlStatus,
    fetch::{FetchSettings, Fetcher, Validators, Want},
    page::{self, Claimed, Outcome, Processed},
    progress::{finish_if_done, write_results},
    robots::Rules,
    seed,
    urls::{self, Scope},
};
use crate::{
    config::Settings,
    db::Database,
    tenancy::{System, Tenant},
};

/// Time after a batch's fetches for judging its pages (extraction is bounded per page) and
/// writing the outcomes in one transaction.
pub const BATCH_WRITE_ALLOWANCE: Duration = Duration::from_secs(2);

/// When an invocation's crawl work must be over. A batch is claimed only before `claim_until`
/// (a crawl's share of a sweep) and only when even its worst case ends by `finish_by`: every
/// page using its whole timeout (which its redirects share), request starts paced by the
/// host's delay or `Crawl-delay`, then [`BATCH_WRITE_ALLOWANCE`]. Sitemap seeding stops at
/// the same bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// No batch is claimed after this.
    pub claim_until: Instant,
    /// Every claimed batch is written by this.
    pub finish_by: Instant,
}

impl Deadline {
    /// One instant for both: claim while a batch can still finish by `at`.
    pub fn at(at: Instant) -> Self {
        Self { claim_until: at, finish_by: at }
    }
}

impl From<Instant> for Deadline {
    fn from(at: Instant) -> Self {
        Self::at(at)
    }
}

/// How the engine paces and leases work.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Concurrent requests per host (1 when robots.txt sets a Crawl-delay).
    pub concurrency: usize,
    /// Least delay between request starts to one host.
    pub min_delay: Duration,
    /// Lease on claimed rows.
    pub lease: Duration,
    /// Time one invocation spends advancing crawls.
    pub invocation_budget: Duration,
}

/// Advances crawls; holds the guarded fetcher. Cheap to clone.
#[derive(Clone)]
pub struct Crawler {
    fetcher: Fetcher,
    config: Arc<EngineConfig>,
}

/// Where an `advance` call left its crawl.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Advance {
    /// The crawl is over, with this status.
    Finished(CrawlStatus),
    /// The deadline came first; more work remains.
    OutOfTime,
    /// Nothing to claim now: other workers hold the leases, or retries wait.
    Waiting,
}

/// What a sweep over all organizations did (the cron answer).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Sweep {
    /// Expired leases returned to the queue.
    pub leases_reclaimed: u64,
    /// Scheduled crawls started.
    pub scheduled_started: usize,
    /// Scheduled crawls skipped (reason recorded on the schedule).
    pub scheduled_skipped: usize,
    /// Crawls advanced.
    pub crawls_advanced: usize,
    /// Crawls that finished during the sweep.
    pub crawls_finished: usize,
}

/// The crawl's state a worker needs.
pub(super) struct State {
    pub(super) root: Url,
    pub(super) options: CrawlOptions,
    pub(super) status: CrawlStatus,
    pub(super) seeded: bool,
    pub(super) rules: Arc<Rules>,
    pub(super) crawl_delay: Option<Duration>,
}

impl Crawler {
    /// A crawler from the application's settings.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let c = &settings.crawl;
        let config = EngineConfig {
            concurrency: c.concurrency,
            min_delay: c.min_delay,
            lease: c.lease,
            invocation_budget: c.invocation_budget,
        };
        Ok(Self::new(Fetcher::new(FetchSettings::from_settings(settings))?, config))
    }

    /// A crawler with its own fetcher and configuration (tests, benchmarks).
    pub fn new(fetcher: Fetcher, config: EngineConfig) -> Self {
        Self { fetcher, config: Arc::new(config) }
    }

    /// The guarded fetcher (also for one-shot page fetches).
    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    /// The engine's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The worst case of a batch of `pages` fetched `concurrency` at a time with `delay`
    /// between request starts: each round of fetches takes at most one page timeout, the
    /// first start may wait one delay for the host's slot, then the judging and the write.
    pub fn batch_worst_case(&self, pages: usize, concurrency: usize, delay: Duration) -> Duration {
        let rounds = pages.div_ceil(concurrency.max(1)) as u32;
        self.fetcher.settings().timeout * rounds + delay * (pages as u32 + 1) + BATCH_WRITE_ALLOWANCE
    }

    /// The largest batch, up to `most` pages, whose worst case fits in `left`; 0 when not even
    /// one page's does.
    fn batch_that_fits(&self, most: usize, concurrency: usize, delay: Duration, left: Duration) -> usize {
        (1..=most).rev().find(|&n| self.batch_worst_case(n, concurrency, delay) <= left).unwrap_or(0)
    }

    /// Advances one crawl of `org_id` until it finishes, waits on others, or its deadline
    /// leaves no room for another batch (see [`Deadline`]).
    pub async fn advance(
        &self,
        db: &Database,
        org_id: Uuid,
        crawl_id: Uuid,
        deadline: impl Into<Deadline>,
    ) -> anyhow::Result<Advance> {
        let deadline = deadline.into();
        let mut state = match load(db, org_id, crawl_id).await? {
            Some(s) => s,
            None => return Ok(Advance::Finished(CrawlStatus::Cancelled)),
        };
        let pacers: Mutex<HashMap<String, Instant>> = Mutex::new(HashMap::new());
        loop {
            if state.status.is_finished() {
                return Ok(Advance::Finished(state.status));
            }
            let now = Instant::now();
            if now >= deadline.claim_until {
                return Ok(Advance::OutOfTime);
            }
            if !state.seeded {
                // Seeding fetches robots.txt, then sitemaps while a fetch still fits.
                if now + self.batch_worst_case(1, 1, Duration::ZERO) > deadline.finish_by {
                    return Ok(Advance::OutOfTime);
                }
                let seeding =
                    seed::seed(self, db, org_id, crawl_id, &state.root, &state.options, deadline.finish_by).await?;
                match seeding {
                    seed::Seeding::Done => {}
                    seed::Seeding::Busy => return Ok(Advance::Waiting),
                }
                state = match load(db, org_id, crawl_id).await? {
                    Some(s) => s,
                    None => return Ok(Advance::Finished(CrawlStatus::Cancelled)),
                };
                continue;
            }
            let token = Uuid::new_v4();
            let (most, concurrency, delay) = self.pacing(&state);
            let per_batch =
                self.batch_that_fits(most, concurrency, delay, deadline.finish_by.saturating_duration_since(now));
            if per_batch == 0 {
                return Ok(Advance::OutOfTime);
            }
            let claimed = self.claim(db, org_id, crawl_id, per_batch, token).await?;
            if claimed.is_empty() {
                return match finish_if_done(db, org_id, crawl_id).await? {
                    Some(status) => Ok(Advance::Finished(status)),
                    None => Ok(Advance::Waiting),
                };
            }
            let processed = self.fetch_batch(&state, claimed, &pacers).await;
            state.status = write_results(db, org_id, crawl_id, token, &state, processed, self.config.lease).await?;
            if !state.status.is_finished()
                && let Some(status) = finish_if_done(db, org_id, crawl_id).await?
            {
                state.status = status;
            }
        }
    }

    /// Claims up to `n` due rows of the crawl for the worker holding `token`: queued rows
    /// whose retry time has come and rows whose lease expired, breadth first.
    pub async fn claim(
        &self,
        db: &Database,
        org_id: Uuid,
        crawl_id: Uuid,
        n: usize,
        token: Uuid,
    ) -> anyhow::Result<Vec<Claimed>> {
        let Some(mut tenant) = Tenant::for_system(db, org_id, "crawl: claim pages").await? else {
            return Ok(Vec::new());
        };
        let rows: Vec<(Uuid, String, i32, i32)> = sqlx::query_as(
            "WITH due AS (
                 SELECT p.org_id, p.id FROM crawl_pages p
                  WHERE p.org_id = $1 AND p.crawl_id = $2
                    AND ((p.status = 'queued' AND p.next_attempt_at <= now())
                         OR (p.status = 'fetching' AND p.lease_until < now()))
                    AND EXISTS (SELECT 1 FROM crawls c WHERE c.org_id = $1 AND c.id = $2
                                   AND c.seeded AND c.status IN ('queued', 'running'))
                  ORDER BY p.depth, p.created_at, p.id
                  LIMIT $3 FOR UPDATE OF p SKIP LOCKED)
             UPDATE crawl_pages p
                SET status = 'fetching', lease_token = $4, lease_until = now() + $5 * interval '1 millisecond',
                    attempts = p.attempts + 1, updated_at = now()
               FROM due WHERE p.org_id = due.org_id AND p.id = due.id
             RETURNING p.id, p.url, p.depth, p.attempts",
        )
        .bind(org_id)
        .bind(crawl_id)
        .bind(n as i64)
        .bind(token)
        .bind(self.config.lease.as_millis() as i64)
        .fetch_all(tenant.conn())
        .await?;
        if rows.is_empty() {
            tenant.commit().await?;
            return Ok(Vec::new());
        }
        sqlx::query(
            "UPDATE crawls SET status = 'running', started_at = coalesce(started_at, now()), updated_at = now()
              WHERE org_id = $1 AND id = $2 AND status = 'queued'",
        )
        .bind(org_id)
        .bind(crawl_id)
        .execute(tenant.conn())
        .await?;
        let urls: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
        let earlier: Vec<EarlierFetch> = sqlx::query_as(
            "SELECT DISTINCT ON (p.url) p.url, p.etag, p.last_modified, p.content_id, p.links
               FROM crawl_pages p JOIN contents c ON c.org_id = p.org_id AND c.id = p.content_id
              WHERE p.org_id = $1 AND p.url = ANY($2) AND p.crawl_id <> $3
                AND p.status IN ('stored', 'updated', 'unchanged')
                AND (p.etag IS NOT NULL OR p.last_modified IS NOT NULL)
              ORDER BY p.url, p.fetched_at DESC",
        )
        .bind(org_id)
        .bind(&urls)
        .bind(crawl_id)
        .fetch_all(tenant.conn())
        .await?;
        tenant.commit().await?;
        let earlier: HashMap<String, (Validators, Uuid, Vec<Url>)> = earlier
            .into_iter()
            .map(|(url, etag, last_modified, content, links)| {
                let links = links.unwrap_or_default().iter().filter_map(|l| Url::parse(l).ok()).collect();
                (url, (Validators { etag, last_modified }, content, links))
            })
            .collect();
        Ok(rows
            .into_iter()
            .filter_map(|(id, url, depth, attempts)| {
                let previous = earlier.get(&url).cloned();
                Some(Claimed {
                    id,
                    url: Url::parse(&url).ok()?,
                    depth,
                    attempts,
                    validators: previous.as_ref().map(|p| p.0.clone()).unwrap_or_default(),
                    previous_content: previous.as_ref().map(|p| p.1),
                    previous_links: previous.map(|p| p.2).unwrap_or_default(),
                })
            })
            .collect())
    }

    /// Pages per batch at most, requests at once, and the least delay between request starts:
    /// one page at a time, `Crawl-delay` apart, when robots.txt asks for a delay.
    fn pacing(&self, state: &State) -> (usize, usize, Duration) {
        let delay = state.crawl_delay.unwrap_or_default().max(self.config.min_delay);
        match state.crawl_delay {
            Some(_) => (1, 1, delay),
            None => (self.config.concurrency * 2, self.config.concurrency, delay),
        }
    }

    async fn fetch_batch(
        &self,
        state: &State,
        claimed: Vec<Claimed>,
        pacers: &Mutex<HashMap<String, Instant>>,
    ) -> Vec<Processed> {
        let scope = Arc::new(Scope::new(
            &state.root,
            state.options.include_subdomains,
            state.options.include_paths.clone(),
            state.options.exclude_paths.clone(),
        ));
        let (_, concurrency, delay) = self.pacing(state);
        let (scope, rules) = (&scope, &state.rules);
        futures_util::stream::iter(claimed)
            .map(|claimed| async move {
                if !rules.allowed(&claimed.url) {
                    return Processed {
                        claimed,
                        moved_to: None,
                        http_status: None,
                        etag: None,
                        last_modified: None,
                        outcome: Outcome::Done {
                            status: "skipped",
                            reason: "robots_disallowed".into(),
                            detail: None,
                            content_id: None,
                        },
                        links: vec![],
                    };
                }
                wait_turn(pacers, claimed.url.host_str().unwrap_or_default(), delay).await;
                let in_scope = |u: &Url| scope.check(u).is_ok() && rules.allowed(u) && urls::trap_reason(u).is_none();
                let result = self.fetcher.fetch(&claimed.url, Want::Html, &claimed.validators, &in_scope).await;
                // Extraction and chunking cost milliseconds of CPU per page, tens for large
                // ones: judged on the blocking pool, so the batch's pages use every core and
                // the runtime's threads stay free for requests.
                let (rules, scope, copy) = (Arc::clone(rules), Arc::clone(scope), claimed.clone());
                tokio::task::spawn_blocking(move || page::judge(claimed, result, &rules, &scope)).await.unwrap_or_else(
                    |err| {
                        tracing::error!(url = %copy.url, "judging a fetched page failed: {err}");
                        page::judging_failed(copy)
                    },
                )
            })
            .buffer_unordered(concurrency)
            .collect()
            .await
    }

    /// One pass over every organization's crawl work: returns expired leases to the queue,
    /// starts due scheduled crawls, and advances unfinished crawls, each for its share of the
    /// time before `deadline` and every batch finished by it.
    pub async fn advance_all(&self, db: &Database, deadline: impl Into<Deadline>) -> anyhow::Result<Sweep> {
        let deadline = deadline.into();
        let mut sweep = Sweep::default();
        let mut system = System::begin(db, "crawl worker: list due crawl work").await?;
        sweep.leases_reclaimed = sqlx::query(
            "UPDATE crawl_pages SET status = 'queued', lease_token = NULL, lease_until = NULL, updated_at = now()
              WHERE status = 'fetching' AND lease_until < now()",
        )
        .execute(system.conn())
        .await?
        .rows_affected();
        let due = super::schedule::claim_due(&mut system).await?;
        system.commit().await?;
        for run in due {
            if super::schedule::run(self, db, run).await? {
                sweep.scheduled_started += 1;
            } else {
                sweep.scheduled_skipped += 1;
            }
        }
        let mut system = System::begin(db, "crawl worker: list unfinished crawls").await?;
        let crawls: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT org_id, id FROM crawls WHERE status IN ('queued', 'running') ORDER BY updated_at LIMIT 100",
        )
        .fetch_all(system.conn())
        .await?;
        system.commit().await?;
        let count = crawls.len();
        for (i, (org_id, crawl_id)) in crawls.into_iter().enumerate() {
            let now = Instant::now();
            if now >= deadline.claim_until {
                break;
            }
            // A fair share for claiming; the batch a crawl claims last may use the rest.
            let share = (deadline.claim_until - now) / (count - i) as u32;
            let until = Deadline {
                claim_until: (now + share.max(Duration::from_secs(5))).min(deadline.claim_until),
                finish_by: deadline.finish_by,
            };
            sweep.crawls_advanced += 1;
            match self.advance(db, org_id, crawl_id, until).await {
                Ok(Advance::Finished(_)) => sweep.crawls_finished += 1,
                Ok(_) => {}
                Err(err) => tracing::warn!(%org_id, %crawl_id, "advancing a crawl failed: {err:#}"),
            }
        }
        Ok(sweep)
    }
}

/// An earlier crawl's fetch of a URL: url, etag, last_modified, content id, links.
type EarlierFetch = (String, Option<String>, Option<String>, Uuid, Option<Vec<String>>);
/// root_url, options, status, seeded, robots_txt, crawl_delay_ms.
type StateRow = (String, Json<CrawlOptions>, CrawlStatus, bool, Option<String>, Option<i32>);

/// Waits until this host's next request slot, keeping `delay` between request starts.
async fn wait_turn(pacers: &Mutex<HashMap<String, Instant>>, host: &str, delay: Duration) {
    let at = {
        let mut map = pacers.lock().await;
        let now = Instant::now();
        let slot = map.get(host).copied().unwrap_or(now).max(now);
        map.insert(host.to_owned(), slot + delay);
        slot
    };
    tokio::time::sleep_until(at).await;
}

async fn load(db: &Database, org_id: Uuid, crawl_id: Uuid) -> anyhow::Result<Option<State>> {
    let Some(mut tenant) = Tenant::for_system(db, org_id, "crawl: load state").await? else {
        return Ok(None);
    };
    let row: Option<StateRow> = sqlx::query_as(
        "SELECT root_url, options, status, seeded, robots_txt, crawl_delay_ms FROM crawls WHERE org_id = $1 AND id = $2",
    )
    .bind(org_id)
    .bind(crawl_id)
    .fetch_optional(tenant.conn())
    .await?;
    tenant.commit().await?;
    let Some((root, options, status, seeded, robots, delay)) = row else { return Ok(None) };
    Ok(Some(State {
        root: Url::parse(&root)?,
        options: options.0,
        status,
        seeded,
        rules: Arc::new(Rules::parse(robots.as_deref())),
        crawl_delay: delay.map(|ms| Duration::from_millis(ms.max(0) as u64)),
    }))
}
