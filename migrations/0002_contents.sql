-- The content library: one row per page or document an organization owns. Crawls, manual
-- additions and legacy imports all land here; chunking, embeddings and search build on it.
--
-- Duplicates are caught by content hash (sha256 of the whitespace-normalized markdown) per
-- organization; a re-crawled URL updates its row instead of adding one.

CREATE TABLE contents (
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    source        text NOT NULL CHECK (source IN ('crawl', 'manual', 'import')),
    -- The crawl that last stored it; the crawl tables add the foreign key.
    crawl_id      uuid,
    url           text CHECK (length(url) <= 2048),
    title         text NOT NULL CHECK (length(title) <= 1024),
    description   text CHECK (length(description) <= 4096),
    language      text CHECK (length(language) <= 35),
    markdown      text NOT NULL,
    word_count    integer NOT NULL CHECK (word_count >= 0),
    content_hash  text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    CONSTRAINT contents_hash_unique UNIQUE (org_id, content_hash)
);
CREATE UNIQUE INDEX contents_url_unique ON contents (org_id, url) WHERE url IS NOT NULL;
CREATE INDEX contents_org_created ON contents (org_id, created_at DESC, id);
CREATE INDEX contents_org_crawl ON contents (org_id, crawl_id) WHERE crawl_id IS NOT NULL;
ALTER TABLE contents ENABLE ROW LEVEL SECURITY;
ALTER TABLE contents FORCE ROW LEVEL SECURITY;
CREATE POLICY contents_tenant ON contents
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY contents_system ON contents USING (vf_is_system()) WITH CHECK (vf_is_system());
