-- Crawls: durable jobs that any number of short function invocations advance.
--
-- A crawl's frontier lives in `crawl_pages`: one row per normalized URL (unique per crawl).
-- Workers claim rows with `FOR UPDATE SKIP LOCKED` and a lease (`lease_until`, `lease_token`);
-- a worker killed mid-crawl leaves its rows leased, and the next worker reclaims them once the
-- lease expires. A result is written only while the writer still holds the row's lease, so a
-- page is never recorded twice. Counts shown to users are computed from these rows.

CREATE TABLE crawls (
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    -- Set when a schedule started the crawl.
    schedule_id     uuid,
    root_url        text NOT NULL CHECK (length(root_url) <= 2048),
    -- CrawlOptions as JSON (max_pages, max_depth, include/exclude paths, subdomains, sitemap).
    options         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled', 'content_limit_reached')),
    -- Why the crawl ended as it did, in words.
    status_reason   text CHECK (length(status_reason) <= 1024),
    -- Seeding (robots.txt, sitemaps) runs once, under its own lease.
    seeded          boolean NOT NULL DEFAULT false,
    seed_attempts   integer NOT NULL DEFAULT 0,
    seed_lease_until timestamptz,
    robots_txt      text CHECK (length(robots_txt) <= 524288),
    -- Crawl-delay from robots.txt, in milliseconds.
    crawl_delay_ms  integer,
    started_at      timestamptz,
    finished_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);
CREATE INDEX crawls_org_created ON crawls (org_id, created_at DESC, id);
-- Unfinished crawls, for cron and the local worker.
CREATE INDEX crawls_unfinished ON crawls (org_id, updated_at) WHERE status IN ('queued', 'running');
ALTER TABLE crawls ENABLE ROW LEVEL SECURITY;
ALTER TABLE crawls FORCE ROW LEVEL SECURITY;
CREATE POLICY crawls_tenant ON crawls
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY crawls_system ON crawls USING (vf_is_system()) WITH CHECK (vf_is_system());

CREATE TABLE crawl_pages (
    org_id          uuid NOT NULL,
    crawl_id        uuid NOT NULL,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    url             text NOT NULL CHECK (length(url) <= 2048),
    -- scheme://host/path without the query: the unit of the query-explosion guard.
    path_key        text NOT NULL CHECK (length(path_key) <= 2048),
    depth           integer NOT NULL CHECK (depth >= 0),
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'fetching', 'stored', 'updated', 'unchanged', 'duplicate',
                                      'redirected', 'skipped', 'failed')),
    -- Why the page ended as it did (machine-readable kind, e.g. robots_disallowed).
    reason          text CHECK (length(reason) <= 64),
    detail          text CHECK (length(detail) <= 1024),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until     timestamptz,
    lease_token     uuid,
    http_status     integer,
    final_url       text CHECK (length(final_url) <= 2048),
    content_id      uuid,
    etag            text CHECK (length(etag) <= 512),
    last_modified   text CHECK (length(last_modified) <= 128),
    -- Links the page gave (normalized, same site), reused when a re-crawl gets 304.
    links           text[] CHECK (cardinality(links) <= 2000),
    fetched_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    CONSTRAINT crawl_pages_url_unique UNIQUE (org_id, crawl_id, url),
    FOREIGN KEY (org_id, crawl_id) REFERENCES crawls (org_id, id) ON DELETE CASCADE
);
-- The claim query: due rows of one crawl in breadth-first order.
CREATE INDEX crawl_pages_claim ON crawl_pages (org_id, crawl_id, depth, created_at)
    WHERE status IN ('queued', 'fetching');
CREATE INDEX crawl_pages_list ON crawl_pages (org_id, crawl_id, created_at, id);
CREATE INDEX crawl_pages_path ON crawl_pages (org_id, crawl_id, path_key);
-- Validators of earlier crawls for conditional re-fetches.
CREATE INDEX crawl_pages_org_url ON crawl_pages (org_id, url, fetched_at DESC) WHERE etag IS NOT NULL OR last_modified IS NOT NULL;
ALTER TABLE crawl_pages ENABLE ROW LEVEL SECURITY;
ALTER TABLE crawl_pages FORCE ROW LEVEL SECURITY;
CREATE POLICY crawl_pages_tenant ON crawl_pages
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY crawl_pages_system ON crawl_pages USING (vf_is_system()) WITH CHECK (vf_is_system());

-- One re-crawl schedule per organization: a root URL crawled daily or weekly. A scheduled
-- crawl counts against max_crawls_per_month; a skipped run records why.
CREATE TABLE crawl_schedules (
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    root_url        text NOT NULL CHECK (length(root_url) <= 2048),
    options         jsonb NOT NULL,
    frequency       text NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    enabled         boolean NOT NULL DEFAULT true,
    next_run_at     timestamptz NOT NULL,
    last_run_at     timestamptz,
    last_crawl_id   uuid,
    last_skip_reason text CHECK (length(last_skip_reason) <= 1024),
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    CONSTRAINT crawl_schedules_one_per_org UNIQUE (org_id)
);
CREATE INDEX crawl_schedules_due ON crawl_schedules (org_id, next_run_at) WHERE enabled;
ALTER TABLE crawl_schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE crawl_schedules FORCE ROW LEVEL SECURITY;
CREATE POLICY crawl_schedules_tenant ON crawl_schedules
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY crawl_schedules_system ON crawl_schedules USING (vf_is_system()) WITH CHECK (vf_is_system());

-- A content item remembers the crawl that stored it; deleting the crawl keeps the item.
-- SET NULL names only crawl_id: org_id stays (Postgres 15+ column list).
ALTER TABLE contents
    ADD CONSTRAINT contents_crawl_fk FOREIGN KEY (org_id, crawl_id)
    REFERENCES crawls (org_id, id) ON DELETE SET NULL (crawl_id);
