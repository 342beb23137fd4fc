-- Foundation: organizations, users, memberships, usage counters and events, audit events,
-- and the row-level-security conventions every later tenant table follows.
--
-- Tenancy (DESIGN.md, "three walls"): every table holding tenant data has `org_id`,
-- ENABLE + FORCE ROW LEVEL SECURITY (FORCE so the owning role is bound too), and a policy on
-- the transaction-local setting `app.org_id`, set by `tenancy::Tenant::begin` with
-- `set_config('app.org_id', $1, true)`. System work (cron, webhooks) sets `app.system` through
-- `tenancy::System::begin`, which records why in `system_events`.

-- pgvector; created by scripts/db in template1 where the role may not create it itself.
CREATE EXTENSION IF NOT EXISTS vector;

-- The organization of the current transaction, or NULL when none is set.
CREATE FUNCTION vf_current_org() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('app.org_id', true), '')::uuid $$;

-- Whether the current transaction is explicit system work.
CREATE FUNCTION vf_is_system() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('app.system', true), '') = 'on' $$;

-- One row per Clerk organization. The row is its own tenant: visible when it is the current
-- org, or while a request resolves its verified Clerk org id to this row (`app.clerk_org_id`).
CREATE TABLE organizations (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clerk_org_id         text NOT NULL UNIQUE CHECK (length(clerk_org_id) BETWEEN 1 AND 128),
    name                 text NOT NULL CHECK (length(name) <= 256),
    slug                 text CHECK (length(slug) <= 256),
    max_users            integer NOT NULL DEFAULT 5 CHECK (max_users >= 0),
    max_content_items    integer NOT NULL DEFAULT 1000 CHECK (max_content_items >= 0),
    max_crawls_per_month integer NOT NULL DEFAULT 10 CHECK (max_crawls_per_month >= 0),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY organizations_tenant ON organizations
    USING (id = vf_current_org() OR clerk_org_id = current_setting('app.clerk_org_id', true))
    WITH CHECK (id = vf_current_org() OR clerk_org_id = current_setting('app.clerk_org_id', true));
CREATE POLICY organizations_system ON organizations USING (vf_is_system()) WITH CHECK (vf_is_system());

-- One row per Clerk user, shared by all the user's organizations. A user is visible to
-- itself and to organizations it belongs to.
CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clerk_user_id text NOT NULL UNIQUE CHECK (length(clerk_user_id) BETWEEN 1 AND 128),
    email         text CHECK (length(email) <= 320),
    name          text CHECK (length(name) <= 256),
    deleted_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;

-- Who belongs to which organization, with which role.
CREATE TABLE memberships (
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('admin', 'member')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
-- Seat order: the first max_users members by join time hold the seats.
CREATE INDEX memberships_org_joined ON memberships (org_id, created_at, user_id);
ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY memberships_tenant ON memberships
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY memberships_system ON memberships USING (vf_is_system()) WITH CHECK (vf_is_system());

-- Declared after memberships because it looks into them.
CREATE POLICY users_tenant ON users
    USING (
        clerk_user_id = current_setting('app.clerk_user_id', true)
        OR EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = vf_current_org() AND m.user_id = users.id)
    )
    WITH CHECK (clerk_user_id = current_setting('app.clerk_user_id', true));
CREATE POLICY users_system ON users USING (vf_is_system()) WITH CHECK (vf_is_system());

-- Counters that limit checks read and bump atomically. `period` is a month ('2026-11') for
-- monthly metrics (crawls, generations, tokens) and 'total' for running totals (content items).
CREATE TABLE usage_counters (
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    metric     text NOT NULL CHECK (length(metric) <= 64),
    period     text NOT NULL CHECK (period = 'total' OR period ~ '^[0-9]{4}-[0-9]{2}$'),
    value      bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, metric, period)
);
ALTER TABLE usage_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_counters_tenant ON usage_counters
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY usage_counters_system ON usage_counters USING (vf_is_system()) WITH CHECK (vf_is_system());

-- One row per metered action, for the dashboard's daily series.
CREATE TABLE usage_events (
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    metric        text NOT NULL CHECK (length(metric) <= 64),
    quantity      bigint NOT NULL,
    actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);
CREATE INDEX usage_events_org_time ON usage_events (org_id, occurred_at);
ALTER TABLE usage_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_events FORCE ROW LEVEL SECURITY;
CREATE POLICY usage_events_tenant ON usage_events
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY usage_events_system ON usage_events USING (vf_is_system()) WITH CHECK (vf_is_system());

-- Who did what, where, when. Append-only: there is no UPDATE or DELETE policy, so even the
-- application role cannot change a row (organization deletion cascades through the FK).
CREATE TABLE audit_events (
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_label   text NOT NULL CHECK (length(actor_label) <= 256),
    action        text NOT NULL CHECK (length(action) <= 64),
    target_type   text CHECK (length(target_type) <= 64),
    target_id     text CHECK (length(target_id) <= 256),
    request_id    text CHECK (length(request_id) <= 128),
    ip            inet,
    details       jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX audit_events_org_time ON audit_events (org_id, occurred_at DESC, id);
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_events_read ON audit_events FOR SELECT USING (org_id = vf_current_org() OR vf_is_system());
CREATE POLICY audit_events_append ON audit_events FOR INSERT WITH CHECK (org_id = vf_current_org() OR vf_is_system());

-- The audit trail of the system path itself: every System::begin records its reason here.
CREATE TABLE system_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    reason      text NOT NULL CHECK (length(reason) <= 256)
);
ALTER TABLE system_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE system_events FORCE ROW LEVEL SECURITY;
CREATE POLICY system_events_read ON system_events FOR SELECT USING (vf_is_system());
CREATE POLICY system_events_append ON system_events FOR INSERT WITH CHECK (vf_is_system());
