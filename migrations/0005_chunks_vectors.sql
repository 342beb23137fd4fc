-- Chunks of content items, their vectors (pgvector backend), and the outbox that keeps the
-- vector store (pgvector or Pinecone) converged with Postgres after any crash or outage.
--
-- A content item is split into token-sized, overlapping chunks when it is stored or edited,
-- in the same transaction that queues one `upsert` per new chunk and one `delete` per
-- replaced chunk in `vector_outbox`. The drain (cron, `voiceforge serve`'s background loop)
-- embeds and writes them, so a crash between Postgres and the vector store loses nothing.

CREATE TABLE content_chunks (
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    content_id      uuid NOT NULL,
    position        integer NOT NULL CHECK (position >= 0),
    -- The heading path above the chunk ("Install > Linux"), kept with it for context.
    heading         text CHECK (length(heading) <= 2048),
    text            text NOT NULL,
    token_count     integer NOT NULL CHECK (token_count >= 0),
    -- Full-text configuration from the item's language ('simple' when unknown).
    ts_config       regconfig NOT NULL DEFAULT 'simple',
    tsv             tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector(ts_config, coalesce(heading, '')), 'A')
                        || setweight(to_tsvector(ts_config, text), 'B')) STORED,
    -- pending: queued in the outbox; embedded: in the vector store.
    embedding_state text NOT NULL DEFAULT 'pending' CHECK (embedding_state IN ('pending', 'embedded')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, content_id) REFERENCES contents (org_id, id) ON DELETE CASCADE
);
CREATE INDEX content_chunks_org_content ON content_chunks (org_id, content_id, position);
-- GIN cannot lead with org_id without btree_gin (not available everywhere); every query
-- filters org_id and row-level security confines it, so the index narrows by terms.
CREATE INDEX content_chunks_tsv ON content_chunks USING gin (tsv);
ALTER TABLE content_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE content_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY content_chunks_tenant ON content_chunks
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY content_chunks_system ON content_chunks USING (vf_is_system()) WITH CHECK (vf_is_system());

-- Vectors of the pgvector backend, one per chunk, removed with their chunk.
CREATE TABLE chunk_embeddings (
    org_id      uuid NOT NULL,
    chunk_id    uuid NOT NULL,
    content_id  uuid NOT NULL,
    model       text NOT NULL CHECK (length(model) <= 256),
    dimensions  integer NOT NULL CHECK (dimensions BETWEEN 1 AND 4096),
    embedding   vector NOT NULL CHECK (vector_dims(embedding) = dimensions),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, chunk_id),
    FOREIGN KEY (org_id, chunk_id) REFERENCES content_chunks (org_id, id) ON DELETE CASCADE
);
CREATE INDEX chunk_embeddings_org_content ON chunk_embeddings (org_id, content_id);
-- HNSW needs a fixed dimension: one partial index per dimension the supported models use
-- (all-MiniLM-L6-v2: 384; llama-text-embed-v2 / OpenAI with `dimensions`: 768, 1024, 1536).
-- An HNSW index holds one column, so it cannot lead with org_id: queries filter org_id
-- inside the tenant transaction (vector::pgvector explains when it searches exactly).
CREATE INDEX chunk_embeddings_hnsw_384 ON chunk_embeddings
    USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE dimensions = 384;
CREATE INDEX chunk_embeddings_hnsw_768 ON chunk_embeddings
    USING hnsw ((embedding::vector(768)) vector_cosine_ops) WHERE dimensions = 768;
CREATE INDEX chunk_embeddings_hnsw_1024 ON chunk_embeddings
    USING hnsw ((embedding::vector(1024)) vector_cosine_ops) WHERE dimensions = 1024;
CREATE INDEX chunk_embeddings_hnsw_1536 ON chunk_embeddings
    USING hnsw ((embedding::vector(1536)) vector_cosine_ops) WHERE dimensions = 1536;
ALTER TABLE chunk_embeddings ENABLE ROW LEVEL SECURITY;
ALTER TABLE chunk_embeddings FORCE ROW LEVEL SECURITY;
CREATE POLICY chunk_embeddings_tenant ON chunk_embeddings
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY chunk_embeddings_system ON chunk_embeddings USING (vf_is_system()) WITH CHECK (vf_is_system());

-- Work for the vector store. A row is due when `available_at` has passed; a drain claims it
-- by pushing `available_at` into the future (a lease), so a crashed drain's rows come back.
-- No foreign key to the chunk: a delete must outlive it.
CREATE TABLE vector_outbox (
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id           bigint GENERATED ALWAYS AS IDENTITY,
    op           text NOT NULL CHECK (op IN ('upsert', 'delete')),
    chunk_id     uuid NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    available_at timestamptz NOT NULL DEFAULT now(),
    last_error   text CHECK (length(last_error) <= 1024),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);
CREATE INDEX vector_outbox_org_due ON vector_outbox (org_id, available_at);
ALTER TABLE vector_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE vector_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY vector_outbox_tenant ON vector_outbox
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY vector_outbox_system ON vector_outbox USING (vf_is_system()) WITH CHECK (vf_is_system());

-- Which embedding model and dimension the vector store holds; checked at start-up so a
-- changed model is an error, not garbage results. One row per backend.
CREATE TABLE vector_spaces (
    backend     text PRIMARY KEY CHECK (backend IN ('pgvector', 'pinecone')),
    model       text NOT NULL CHECK (length(model) <= 256),
    dimensions  integer NOT NULL CHECK (dimensions BETWEEN 1 AND 4096),
    created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE vector_spaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE vector_spaces FORCE ROW LEVEL SECURITY;
CREATE POLICY vector_spaces_system ON vector_spaces USING (vf_is_system()) WITH CHECK (vf_is_system());
