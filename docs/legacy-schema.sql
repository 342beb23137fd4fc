-- The single-tenant VoiceForge schema that `voiceforge import-legacy` reads.
--
-- Installs before multi-tenancy kept one brand per database: integer ids, no org_id, and
-- embeddings (all-MiniLM-L6-v2, 384 dimensions) in a pgvector column or none at all. The
-- importer only reads these tables (in a read-only transaction) and never writes to them.

CREATE EXTENSION IF NOT EXISTS vector;

-- One crawl of the brand's website. Imported as a finished crawl with the same times; one
-- left queued or running is recorded as cancelled. The importer needs only these columns
-- and also carries `started_at`, `error` (text), `max_pages` and `max_depth` (integers)
-- when a crawls table has them.
CREATE TABLE crawls (
    id            serial PRIMARY KEY,
    root_url      text NOT NULL,
    status        text NOT NULL DEFAULT 'completed',   -- queued | running | completed | failed
    pages_crawled integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);

-- A page or document of the library. `body` is markdown (older rows: plain text).
CREATE TABLE contents (
    id         serial PRIMARY KEY,
    crawl_id   integer REFERENCES crawls (id) ON DELETE SET NULL,
    url        text,
    title      text,
    body       text,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Chunks of a content row, with their embedding when one was computed.
CREATE TABLE content_chunks (
    id          serial PRIMARY KEY,
    content_id  integer NOT NULL REFERENCES contents (id) ON DELETE CASCADE,
    chunk_index integer NOT NULL,
    text        text NOT NULL,
    embedding   vector(384)
);

-- Prompt templates; `prompt` holds {{placeholders}} for the inputs. Imported templates get
-- one optional field per valid placeholder; any other `{{` is escaped (`\{{`) so it stays
-- literal text. `kind` is free text: blog_post, email, social_post, ad, landing_page, custom
-- (and near spellings such as `blog` or `social`); anything else imports as custom.
CREATE TABLE marketing_templates (
    id          serial PRIMARY KEY,
    name        text NOT NULL,
    kind        text,
    description text,
    prompt      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
