//! Rate limiting: token buckets per member and per organization for each route class, held in
//! Postgres so every function instance shares them. A check is one atomic statement per
//! bucket; a refused request is answered 429 `rate_limited` with `Retry-After`.

use std::fmt;

use anyhow::{Context, bail};
use axum::http::Method;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{error::ApiError, tenancy::Tenant};

/// What kind of work a route does, which decides its budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteClass {
    /// Reading (GET).
    Reads,
    /// Changing state (POST, PUT, PATCH, DELETE) other than the two below.
    Writes,
    /// Asking an LLM for content.
    Generation,
    /// Starting a crawl.
    CrawlStarts,
}

impl RouteClass {
    /// The class of a route that declares none: reads for GET and HEAD, writes otherwise.
    pub fn for_method(method: &Method) -> Self {
        if method == Method::GET || method == Method::HEAD { RouteClass::Reads } else { RouteClass::Writes }
    }

    /// Stored name, part of the bucket key.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteClass::Reads => "reads",
            RouteClass::Writes => "writes",
            RouteClass::Generation => "generation",
            RouteClass::CrawlStarts => "crawl_starts",
        }
    }
}

/// Requests per minute allowed to one member and to a whole organization; the bucket holds
/// one minute's worth, so a full bucket allows a burst of that many. 0 turns a bucket off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassLimit {
    /// Per member per minute.
    pub per_user: u32,
    /// Per organization per minute.
    pub per_org: u32,
}

/// The budgets of every route class (`RATE_LIMIT_READS`, `_WRITES`, `_GENERATION`, `_CRAWL_STARTS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// GET routes.
    pub reads: ClassLimit,
    /// Other mutations.
    pub writes: ClassLimit,
    /// Generation requests.
    pub generation: ClassLimit,
    /// Crawl starts.
    pub crawl_starts: ClassLimit,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            reads: ClassLimit { per_user: 300, per_org: 1200 },
            writes: ClassLimit { per_user: 60, per_org: 240 },
            generation: ClassLimit { per_user: 10, per_org: 30 },
            crawl_starts: ClassLimit { per_user: 3, per_org: 6 },
        }
    }
}

impl RateLimits {
    /// The budget of `class`.
    pub fn of(&self, class: RouteClass) -> ClassLimit {
        match class {
            RouteClass::Reads => self.reads,
            RouteClass::Writes => self.writes,
            RouteClass::Generation => self.generation,
            RouteClass::CrawlStarts => self.crawl_starts,
        }
    }

    /// Reads the four variables through `get`, each `PER_USER,PER_ORG` (or one number for both).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let defaults = Self::default();
        let read = |name: &str, default: ClassLimit| match get(name) {
            None => Ok(default),
            Some(value) => parse_class_limit(&value).with_context(|| {
                format!("{name} must be PER_USER,PER_ORG requests per minute (e.g. 60,240), got {value:?}")
            }),
        };
        Ok(Self {
            reads: read("RATE_LIMIT_READS", defaults.reads)?,
            writes: read("RATE_LIMIT_WRITES", defaults.writes)?,
            generation: read("RATE_LIMIT_GENERATION", defaults.generation)?,
            crawl_starts: read("RATE_LIMIT_CRAWL_STARTS", defaults.crawl_starts)?,
        })
    }
}

fn parse_class_limit(value: &str) -> anyhow::Result<ClassLimit> {
    let mut parts = value.split(',').map(str::trim);
    let mut next = || -> anyhow::Result<Option<u32>> {
        parts.next().map(|p| p.parse::<u32>().context("not a whole number")).transpose()
    };
    let per_user = next()?.context("empty")?;
    let per_org = next()?.unwrap_or(per_user);
    if next()?.is_some() {
        bail!("more than two numbers");
    }
    if per_user > 1_000_000 || per_org > 1_000_000 {
        bail!("at most 1000000 per minute");
    }
    Ok(ClassLimit { per_user, per_org })
}

/// A refused request: the bucket that ran dry and when it holds a token again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("too many {class} requests {scope}; retry in {retry_after_secs} s")]
pub struct RateLimited {
    /// The class whose bucket is empty.
    pub class: &'static str,
    /// `for you` or `for your organization`.
    pub scope: &'static str,
    /// Whole seconds until a token is back (at least 1).
    pub retry_after_secs: u64,
}

impl From<RateLimited> for ApiError {
    fn from(err: RateLimited) -> Self {
        ApiError::too_many_requests("rate_limited", err.to_string(), err.retry_after_secs)
    }
}

/// Why a check did not answer yes.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A bucket is empty.
    #[error(transparent)]
    Limited(#[from] RateLimited),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl From<CheckError> for ApiError {
    fn from(err: CheckError) -> Self {
        match err {
            CheckError::Limited(limited) => limited.into(),
            CheckError::Database(db) => db.into(),
        }
    }
}

impl fmt::Display for RouteClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Takes one token from the member's and the organization's bucket of `class`. On refusal the
/// caller must roll the transaction back, so a token taken from the first bucket returns.
/// Run it in a short transaction of its own: the bucket rows stay locked until it ends.
pub async fn check(tenant: &mut Tenant, limits: &RateLimits, class: RouteClass) -> Result<(), CheckError> {
    let limit = limits.of(class);
    let org_id = tenant.org().id;
    if let Some(user_id) = tenant.user_id() {
        let bucket = format!("user:{user_id}:{class}");
        take(tenant.conn(), org_id, &bucket, limit.per_user).await?.map_err(|retry_after_secs| RateLimited {
            class: class.as_str(),
            scope: "for you",
            retry_after_secs,
        })?;
    }
    let bucket = format!("org:{class}");
    take(tenant.conn(), org_id, &bucket, limit.per_org).await?.map_err(|retry_after_secs| RateLimited {
        class: class.as_str(),
        scope: "for your organization",
        retry_after_secs,
    })?;
    Ok(())
}

/// Takes a token from one bucket holding `per_minute` tokens and refilling `per_minute` a
/// minute. `Ok(Err(secs))` when empty: the seconds until a token is back.
pub async fn take(
    conn: &mut PgConnection,
    org_id: Uuid,
    bucket: &str,
    per_minute: u32,
) -> Result<Result<(), u64>, sqlx::Error> {
    if per_minute == 0 {
        return Ok(Ok(()));
    }
    let capacity = f64::from(per_minute);
    let per_second = capacity / 60.0;
    // One statement: the row lock serializes concurrent takers and each re-reads the row
    // another taker left, so the bucket can never be overdrawn. Time never runs backwards
    // here (greatest), even when a transaction that started earlier commits later.
    let taken: Option<f64> = sqlx::query_scalar(
        "INSERT INTO rate_limit_buckets AS b (org_id, bucket, tokens, updated_at)
         VALUES ($1, $2, $3 - 1, clock_timestamp())
         ON CONFLICT (org_id, bucket) DO UPDATE
            SET tokens = least($3, b.tokens + greatest(0, extract(epoch FROM clock_timestamp() - b.updated_at)) * $4) - 1,
                updated_at = greatest(b.updated_at, clock_timestamp())
          WHERE least($3, b.tokens + greatest(0, extract(epoch FROM clock_timestamp() - b.updated_at)) * $4) >= 1
         RETURNING tokens",
    )
    .bind(org_id)
    .bind(bucket)
    .bind(capacity)
    .bind(per_second)
    .fetch_optional(&mut *conn)
    .await?;
    if taken.is_some() {
        return Ok(Ok(()));
    }
    let available: f64 = sqlx::query_scalar(
        "SELECT least($3, tokens + greatest(0, extract(epoch FROM clock_timestamp() - updated_at)) * $4)::float8
           FROM rate_limit_buckets WHERE org_id = $1 AND bucket = $2",
    )
    .bind(org_id)
    .bind(bucket)
    .bind(capacity)
    .bind(per_second)
    .fetch_optional(&mut *conn)
    .await?
    .unwrap_or(0.0);
    Ok(Err(retry_after(available, per_second)))
}

/// Whole seconds until `available` tokens refill to one at `per_second`, at least 1.
fn retry_after(available: f64, per_second: f64) -> u64 {
    let secs = ((1.0 - available).max(0.0) / per_second).ceil();
    if secs.is_finite() { (secs as u64).clamp(1, 3600) } else { 60 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> anyhow::Result<RateLimits> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        RateLimits::from_lookup(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn limits_parse_per_user_and_per_org_with_defaults_for_the_rest() {
        let limits = lookup(&[("RATE_LIMIT_WRITES", "5, 20"), ("RATE_LIMIT_GENERATION", "7")]).unwrap();
        assert_eq!(limits.writes, ClassLimit { per_user: 5, per_org: 20 });
        assert_eq!(limits.generation, ClassLimit { per_user: 7, per_org: 7 });
        assert_eq!(limits.reads, RateLimits::default().reads);
    }

    #[test]
    fn malformed_limits_name_the_variable() {
        for bad in ["", "x", "1,2,3", "-1", "5,", "99999999"] {
            let err = lookup(&[("RATE_LIMIT_READS", bad)]).unwrap_err();
            assert!(format!("{err:#}").contains("RATE_LIMIT_READS"), "{bad}: {err:#}");
        }
    }

    #[test]
    fn retry_after_rounds_up_and_stays_in_range() {
        assert_eq!(retry_after(0.0, 1.0), 1);
        assert_eq!(retry_after(0.5, 0.1), 5);
        assert_eq!(retry_after(0.0, 3.0 / 60.0), 20);
        assert_eq!(retry_after(0.99, 1000.0), 1);
        assert_eq!(retry_after(0.0, 0.0), 60);
    }

    #[test]
    fn methods_map_to_reads_and_writes() {
        assert_eq!(RouteClass::for_method(&Method::GET), RouteClass::Reads);
        assert_eq!(RouteClass::for_method(&Method::PATCH), RouteClass::Writes);
        assert_eq!(RouteClass::for_method(&Method::DELETE), RouteClass::Writes);
    }
}
