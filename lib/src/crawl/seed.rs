//! Seeding (robots.txt and sitemaps, once per crawl under its own lease) and discovery (new
//! frontier rows from links and sitemaps, filtered by scope, robots, traps and caps).

use std::collections::{HashMap, HashSet, VecDeque};

use url::Url;
use uuid::Uuid;

use super::{
    CrawlOptions, CrawlStatus, Crawler,
    fetch::{Validators, Want},
    progress::set_finished,
    robots::{self, Rules},
    sitemap,
    urls::{self, OutOfScope, Scope},
};
use crate::{db::Database, tenancy::Tenant};

/// Sitemap documents read per crawl.
const MAX_SITEMAPS: usize = 20;
/// Query variants of one path kept before the rest count as a trap.
const MAX_QUERY_VARIANTS: i64 = 25;
/// Seeding attempts before a robots.txt that keeps failing fails the crawl.
const MAX_SEED_ATTEMPTS: i32 = 3;

/// Result of a seeding attempt.
pub enum Seeding {
    /// Seeded (by us, or found seeded, or the crawl ended).
    Done,
    /// Another worker holds the seeding lease, or robots.txt asked us to come back later.
    Busy,
}

/// Seeds the crawl once: reads robots.txt (4xx allows all; 5xx and network errors defer, and
/// fail the crawl after three attempts), then sitemaps when enabled, each only while its
/// fetch can end by `finish_by` (the invocation's deadline; links find what sitemaps left).
pub async fn seed(
    crawler: &Crawler,
    db: &Database,
    org_id: Uuid,
    crawl_id: Uuid,
    root: &Url,
    options: &CrawlOptions,
    finish_by: tokio::time::Instant,
) -> anyhow::Result<Seeding> {
    let Some(mut tenant) = Tenant::for_system(db, org_id, "crawl: seed").await? else { return Ok(Seeding::Done) };
    let attempt: Option<i32> = sqlx::query_scalar(
        "UPDATE crawls SET seed_attempts = seed_attempts + 1,
                seed_lease_until = now() + $3 * interval '1 millisecond', updated_at = now()
          WHERE org_id = $1 AND id = $2 AND NOT seeded AND status IN ('queued', 'running')
            AND (seed_lease_until IS NULL OR seed_lease_until < now())
          RETURNING seed_attempts",
    )
    .bind(org_id)
    .bind(crawl_id)
    .bind(crawler.config().lease.as_millis() as i64)
    .fetch_optional(tenant.conn())
    .await?;
    tenant.commit().await?;
    let Some(attempt) = attempt else { return Ok(Seeding::Busy) };

    let robots_url = root.join("/robots.txt")?;
    let fetched = crawler
        .fetcher()
        .fetch(&robots_url, Want::Any, &Validators::default(), &|u| u.host_str() == root.host_str())
        .await;
    let robots_txt = match fetched {
        Ok(f) if f.status.is_success() => {
            let body = &f.body[..f.body.len().min(robots::MAX_ROBOTS_BYTES)];
            Some(String::from_utf8_lossy(body).into_owned())
        }
        Ok(f) if f.status.is_client_error() => None,
        Err(err) if err.kind() == "too_large" => None,
        Err(err) if err.kind() == "redirect_out_of_scope" => None,
        other => {
            let blocked = matches!(&other, Err(e) if e.kind() == "ssrf_blocked");
            let why = match other {
                Ok(f) => format!("robots.txt answered HTTP {}", f.status.as_u16()),
                Err(e) => format!("robots.txt could not be fetched: {e}"),
            };
            let Some(mut tenant) = Tenant::for_system(db, org_id, "crawl: seed deferred").await? else {
                return Ok(Seeding::Done);
            };
            if blocked || attempt >= MAX_SEED_ATTEMPTS {
                let reason =
                    if blocked { format!("ssrf_blocked: {why}") } else { format!("{why} ({attempt} attempts)") };
                sqlx::query(
                    "UPDATE crawl_pages SET status = 'failed', reason = $3, detail = $4, updated_at = now()
                      WHERE org_id = $1 AND crawl_id = $2 AND status IN ('queued', 'fetching')",
                )
                .bind(org_id)
                .bind(crawl_id)
                .bind(if blocked { "ssrf_blocked" } else { "robots_unavailable" })
                .bind(&why)
                .execute(tenant.conn())
                .await?;
                set_finished(&mut tenant, crawl_id, CrawlStatus::Failed, Some(&reason)).await?;
            } else {
                // Come back after a growing pause (the lease doubles as the retry timer).
                sqlx::query(
                    "UPDATE crawls SET seed_lease_until = now() + $3 * interval '1 second' WHERE org_id = $1 AND id = $2",
                )
                .bind(org_id)
                .bind(crawl_id)
                .bind(f64::from(attempt * 2))
                .execute(tenant.conn())
                .await?;
            }
            tenant.commit().await?;
            return Ok(Seeding::Busy);
        }
    };
    let rules = Rules::parse(robots_txt.as_deref());

    let mut found: Vec<(Url, i32)> = Vec::new();
    if options.use_sitemap {
        let mut queue: VecDeque<String> = rules.sitemaps().into_iter().collect();
        if queue.is_empty() {
            queue.push_back(root.join("/sitemap.xml")?.to_string());
        }
        let mut seen = HashSet::new();
        let cap = options.max_pages as usize;
        let one_fetch = crawler.batch_worst_case(1, 1, std::time::Duration::ZERO);
        while let Some(next) = queue.pop_front() {
            if seen.len() >= MAX_SITEMAPS || found.len() >= cap {
                break;
            }
            if tokio::time::Instant::now() + one_fetch > finish_by {
                tracing::info!(%crawl_id, sitemaps = seen.len(), "sitemap reading stopped at the invocation's deadline");
                break;
            }
            let Some(url) = root.join(&next).ok().and_then(|u| urls::normalize(u.as_str()).ok()) else { continue };
            if !seen.insert(url.clone()) || url.host_str() != root.host_str() {
                continue;
            }
            let same_host = |u: &Url| u.host_str() == root.host_str();
            let Ok(f) = crawler.fetcher().fetch(&url, Want::Any, &Validators::default(), &same_host).await else {
                continue;
            };
            if !f.status.is_success() {
                continue;
            }
            let Ok(parsed) = sitemap::parse(&f.body, cap - found.len()) else { continue };
            queue.extend(parsed.sitemaps);
            found.extend(parsed.pages.iter().filter_map(|p| urls::normalize(p).ok()).map(|u| (u, 1)));
        }
    }

    let Some(mut tenant) = Tenant::for_system(db, org_id, "crawl: record seeds").await? else {
        return Ok(Seeding::Done);
    };
    let updated = sqlx::query(
        "UPDATE crawls SET seeded = true, robots_txt = $3, crawl_delay_ms = $4, seed_lease_until = NULL, updated_at = now()
          WHERE org_id = $1 AND id = $2 AND NOT seeded AND seed_attempts = $5",
    )
    .bind(org_id)
    .bind(crawl_id)
    .bind(robots_txt.as_deref().map(|t| t.replace('\0', "")))
    .bind(rules.crawl_delay_ms())
    .bind(attempt)
    .execute(tenant.conn())
    .await?
    .rows_affected();
    if updated == 1 {
        discover(&mut tenant, crawl_id, root, options, &rules, found).await?;
    }
    tenant.commit().await?;
    Ok(Seeding::Done)
}

/// Adds new URLs to the frontier: same-site URLs outside the patterns, disallowed by robots
/// or shaped like traps are recorded as skipped with their reason; other sites and pages
/// beyond the depth cap are left out; the page cap bounds fetchable rows, and the same cap
/// bounds skipped ones.
pub async fn discover(
    tenant: &mut Tenant,
    crawl_id: Uuid,
    root: &Url,
    options: &CrawlOptions,
    rules: &Rules,
    candidates: Vec<(Url, i32)>,
) -> Result<(), sqlx::Error> {
    if candidates.is_empty() {
        return Ok(());
    }
    let org_id = tenant.org().id;
    let scope =
        Scope::new(root, options.include_subdomains, options.include_paths.clone(), options.exclude_paths.clone());
    let mut seen = HashSet::new();
    let mut fresh: Vec<(Url, i32)> = candidates
        .into_iter()
        .filter(|(u, depth)| *depth <= options.max_depth && scope.same_site(u) && seen.insert(u.to_string()))
        .collect();
    let all: Vec<String> = fresh.iter().map(|(u, _)| u.to_string()).collect();
    let known: HashSet<String> =
        sqlx::query_scalar("SELECT url FROM crawl_pages WHERE org_id = $1 AND crawl_id = $2 AND url = ANY($3)")
            .bind(org_id)
            .bind(crawl_id)
            .bind(&all)
            .fetch_all(tenant.conn())
            .await?
            .into_iter()
            .collect();
    fresh.retain(|(u, _)| !known.contains(u.as_str()));
    if fresh.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = fresh.iter().map(|(u, _)| urls::path_key(u)).collect();
    let mut variants: HashMap<String, i64> = sqlx::query_as(
        "SELECT path_key, count(*) FROM crawl_pages WHERE org_id = $1 AND crawl_id = $2 AND path_key = ANY($3) GROUP BY 1",
    )
    .bind(org_id)
    .bind(crawl_id)
    .bind(&keys)
    .fetch_all(tenant.conn())
    .await?
    .into_iter()
    .collect();
    let (mut fetchable, mut skipped): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE NOT (status = 'skipped' AND http_status IS NULL)),
                count(*) FILTER (WHERE status = 'skipped' AND http_status IS NULL)
           FROM crawl_pages WHERE org_id = $1 AND crawl_id = $2",
    )
    .bind(org_id)
    .bind(crawl_id)
    .fetch_one(tenant.conn())
    .await?;
    let cap = i64::from(options.max_pages);

    let (mut out_urls, mut out_keys, mut out_depths, mut out_status, mut out_reason, mut out_detail) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((url, depth), key) in fresh.into_iter().zip(keys) {
        let count = variants.entry(key.clone()).or_insert(0);
        let skip: Option<(&str, String)> = if let Err(why) = scope.check(&url) {
            Some((
                "out_of_scope",
                match why {
                    OutOfScope::Excluded => "matches an exclude pattern".into(),
                    OutOfScope::NotIncluded => "matches no include pattern".into(),
                    OutOfScope::OtherSite => "another site".into(),
                },
            ))
        } else if let Some(trap) = urls::trap_reason(&url) {
            Some(("trap", trap.into()))
        } else if url.query().is_some() && *count >= MAX_QUERY_VARIANTS {
            Some(("trap", format!("more than {MAX_QUERY_VARIANTS} query variants of this path")))
        } else if !rules.allowed(&url) {
            Some(("robots_disallowed", "disallowed by robots.txt".into()))
        } else {
            None
        };
        match skip {
            Some(_) if skipped >= cap => continue,
            Some(_) => skipped += 1,
            None if fetchable >= cap => continue,
            None => fetchable += 1,
        }
        *count += 1;
        out_urls.push(url.to_string());
        out_keys.push(key);
        out_depths.push(depth);
        out_status.push(if skip.is_some() { "skipped" } else { "queued" }.to_owned());
        out_reason.push(skip.as_ref().map(|s| s.0.to_owned()));
        out_detail.push(skip.map(|s| s.1));
    }
    sqlx::query(
        "INSERT INTO crawl_pages (org_id, crawl_id, url, path_key, depth, status, reason, detail)
         SELECT $1, $2, * FROM UNNEST($3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[])
         ON CONFLICT DO NOTHING",
    )
    .bind(org_id)
    .bind(crawl_id)
    .bind(&out_urls)
    .bind(&out_keys)
    .bind(&out_depths)
    .bind(&out_status)
    .bind(&out_reason)
    .bind(&out_detail)
    .execute(tenant.conn())
    .await?;
    Ok(())
}
