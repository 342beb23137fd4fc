-- Legacy import bookkeeping: which row of a single-tenant database became which object of
-- which organization, so a second run adds nothing and an interrupted run resumes. A row is
-- recorded in the same transaction as the object it produced.

CREATE TABLE legacy_import_map (
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- Identifies the legacy database (host/port/database), so two installs can be imported.
    source       text NOT NULL CHECK (length(source) <= 512),
    legacy_table text NOT NULL CHECK (legacy_table IN ('crawls', 'contents', 'content_chunks', 'marketing_templates')),
    legacy_id    bigint NOT NULL,
    -- Only final outcomes are recorded: a row refused by a limit or failed is retried by the
    -- next run (after the limit is raised, say).
    outcome      text NOT NULL CHECK (outcome IN ('imported', 'duplicate')),
    new_id       uuid NOT NULL,
    imported_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, source, legacy_table, legacy_id)
);
ALTER TABLE legacy_import_map ENABLE ROW LEVEL SECURITY;
ALTER TABLE legacy_import_map FORCE ROW LEVEL SECURITY;
CREATE POLICY legacy_import_map_tenant ON legacy_import_map
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY legacy_import_map_system ON legacy_import_map USING (vf_is_system()) WITH CHECK (vf_is_system());
