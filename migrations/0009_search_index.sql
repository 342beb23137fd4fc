-- Lexical search that ranks (BM25), a truthful index status, and embedding bookkeeping.
--
-- Full-text search used to filter with `@@` and sort by `ts_rank_cd`: every query word had to
-- match, and ranking needed every matching row's tsvector. Ranking by BM25 needs, per query
-- term, how many passages of the organization contain it (df) and, per passage, how often
-- (tf) and how long the passage is. Those live here:
--
-- * `search_postings`: an inverted index, one row per (organization, lexeme, content item)
--   listing the item's chunks that hold the lexeme with their weighted term frequency and
--   length. Grouping by item keeps the table at a third of the rows of one-per-chunk
--   postings, and an item's rows are rewritten on their own when it changes, so concurrent
--   stores of different pages never touch the same row.
-- * `search_stats`: per organization, passages and tokens (N and the average length for
--   BM25) and how many passages have their vector (the index status), kept in step by the
--   statements that add, remove and embed chunks.

-- Passages of an organization: counts for BM25 and for the index status.
CREATE TABLE search_stats (
    org_id           uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    chunks           bigint NOT NULL DEFAULT 0 CHECK (chunks >= 0),
    tokens           bigint NOT NULL DEFAULT 0 CHECK (tokens >= 0),
    embedded         bigint NOT NULL DEFAULT 0 CHECK (embedded >= 0),
    -- Passages embedded per second, smoothed over the drain's recent writes, and when the last
    -- write happened: the estimated time to a complete index.
    embed_rate       double precision NOT NULL DEFAULT 0 CHECK (embed_rate >= 0),
    last_embedded_at timestamptz
);
ALTER TABLE search_stats ENABLE ROW LEVEL SECURITY;
ALTER TABLE search_stats FORCE ROW LEVEL SECURITY;
CREATE POLICY search_stats_tenant ON search_stats
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY search_stats_system ON search_stats USING (vf_is_system()) WITH CHECK (vf_is_system());

-- The inverted index. `lexeme` sorts bytewise (COLLATE "C") so a prefix is one index range.
-- The three arrays run in step: the chunk positions (within the item) holding the lexeme, its
-- frequency there (title and heading occurrences count twice: a word in the heading path says
-- more about the passage than one in its body), and the chunk's length in tokens.
CREATE TABLE search_postings (
    org_id      uuid NOT NULL,
    lexeme      text COLLATE "C" NOT NULL CHECK (length(lexeme) <= 2046),
    content_id  uuid NOT NULL,
    -- cardinality(positions): the passages of this item holding the lexeme (summed for df),
    -- kept as a column so df comes from the index alone.
    chunks      integer NOT NULL CHECK (chunks > 0),
    positions   integer[] NOT NULL,
    freqs       smallint[] NOT NULL,
    lengths     smallint[] NOT NULL,
    PRIMARY KEY (org_id, lexeme, content_id) INCLUDE (chunks),
    FOREIGN KEY (org_id, content_id) REFERENCES contents (org_id, id) ON DELETE CASCADE
);
-- Rewriting an item's postings finds them by item.
CREATE INDEX search_postings_org_content ON search_postings (org_id, content_id);
ALTER TABLE search_postings ENABLE ROW LEVEL SECURITY;
ALTER TABLE search_postings FORCE ROW LEVEL SECURITY;
CREATE POLICY search_postings_tenant ON search_postings
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY search_postings_system ON search_postings USING (vf_is_system()) WITH CHECK (vf_is_system());

-- Rebuilds the postings of one content item from its chunks and title. The one definition of
-- what the lexical index holds: the library calls it whenever an item's chunks change, and
-- the backfill below uses it. SECURITY INVOKER (the default): row-level security applies.
CREATE FUNCTION vf_index_content(p_org uuid, p_content uuid) RETURNS void
    LANGUAGE sql VOLATILE
    AS $$
    DELETE FROM search_postings WHERE org_id = p_org AND content_id = p_content;
    INSERT INTO search_postings (org_id, lexeme, content_id, chunks, positions, freqs, lengths)
    SELECT p_org, u.lexeme, p_content, count(*),
           array_agg(c.position ORDER BY c.position),
           array_agg(least(cardinality(u.positions) + cardinality(array_positions(u.weights, 'A')), 32767)::smallint
                     ORDER BY c.position),
           array_agg(least(c.token_count, 32767)::smallint ORDER BY c.position)
      FROM content_chunks c
      JOIN contents i ON i.org_id = c.org_id AND i.id = c.content_id
     CROSS JOIN LATERAL unnest(setweight(to_tsvector(c.ts_config, i.title), 'A') || c.tsv) AS u
     WHERE c.org_id = p_org AND c.content_id = p_content
     GROUP BY u.lexeme;
$$;

-- How much of a passage is link text, from 0 to 1. Hub pages that list every module are
-- nearly all links, and search ranks them down so they do not crowd out the page that
-- answers. A markdown link `[text](target)` counts by its text; the share is of the text with
-- link targets removed.
CREATE FUNCTION vf_link_density(md text) RETURNS real
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE WHEN length(visible) = 0 THEN 0 ELSE (length(visible) - length(unlinked))::real / length(visible) END
      FROM (SELECT regexp_replace(md, '\]\([^)]*\)', ']', 'g') AS visible,
                   regexp_replace(md, '!?\[[^\]]*\]\([^)]*\)', '', 'g') AS unlinked) s
$$;
ALTER TABLE content_chunks ADD COLUMN link_density real NOT NULL GENERATED ALWAYS AS (vf_link_density(text)) STORED;

-- The hash of the text a chunk's vector was made from, so a passage whose text is already
-- embedded elsewhere in the organization gets a copy of that vector instead of a new one.
ALTER TABLE content_chunks ADD COLUMN embed_hash bytea CHECK (length(embed_hash) = 32);
CREATE INDEX content_chunks_org_embed_hash ON content_chunks (org_id, embed_hash) WHERE embed_hash IS NOT NULL;

-- The order in which the drain embeds: a chunk's position in its item, so every page's first
-- passages are searchable by meaning before any page's later ones.
ALTER TABLE vector_outbox ADD COLUMN priority integer NOT NULL DEFAULT 0 CHECK (priority >= 0);
CREATE INDEX vector_outbox_org_priority ON vector_outbox (org_id, priority, id);

-- Backfill what exists (the migration's own transaction is system work).
SELECT set_config('app.system', 'on', true);
INSERT INTO search_stats (org_id, chunks, tokens, embedded)
SELECT org_id, count(*), sum(token_count), count(*) FILTER (WHERE embedding_state = 'embedded')
  FROM content_chunks GROUP BY org_id;
SELECT vf_index_content(org_id, id) FROM contents;
UPDATE vector_outbox o SET priority = c.position
  FROM content_chunks c WHERE c.org_id = o.org_id AND c.id = o.chunk_id AND o.op = 'upsert';
SELECT set_config('app.system', '', true);
