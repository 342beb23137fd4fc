-- Platform: Clerk webhook bookkeeping, deletion tombstones, rate-limit buckets.
--
-- Follows 0001's conventions: ENABLE + FORCE ROW LEVEL SECURITY on every table; tables with
-- org_id get a `*_tenant` policy on vf_current_org() and a `*_system` policy; tables without
-- org_id are reachable only through the audited system path (plus, for tombstones, the
-- caller's own verified Clerk ids, which `Tenant::begin` sets before it resolves the org).

-- Every Svix message id seen, so each delivery takes effect once. A redelivery finds its id
-- here (or waits on the first delivery's uncommitted insert) and is acknowledged unchanged.
CREATE TABLE webhook_events (
    svix_id     text PRIMARY KEY CHECK (length(svix_id) BETWEEN 1 AND 256),
    event_type  text NOT NULL CHECK (length(event_type) <= 128),
    received_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE webhook_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_events FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_events_system ON webhook_events USING (vf_is_system()) WITH CHECK (vf_is_system());

-- Organizations deleted in Clerk. Clerk never reuses ids, so a tombstone is permanent: a late
-- `organization.created`, a stale membership event or a still-valid session token must not
-- bring the organization back. Its data is gone (it cascaded from `organizations`).
CREATE TABLE deleted_organizations (
    clerk_org_id text PRIMARY KEY CHECK (length(clerk_org_id) BETWEEN 1 AND 128),
    deleted_at   timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE deleted_organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE deleted_organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY deleted_organizations_caller ON deleted_organizations FOR SELECT
    USING (clerk_org_id = current_setting('app.clerk_org_id', true));
CREATE POLICY deleted_organizations_system ON deleted_organizations
    USING (vf_is_system()) WITH CHECK (vf_is_system());

-- Memberships removed by `organizationMembership.deleted`, with the event's time, so a
-- `created` event delivered late (older than the removal) does not re-add the member. A newer
-- `created` (the user was invited back) clears the row.
CREATE TABLE membership_removals (
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    removed_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
ALTER TABLE membership_removals ENABLE ROW LEVEL SECURITY;
ALTER TABLE membership_removals FORCE ROW LEVEL SECURITY;
CREATE POLICY membership_removals_tenant ON membership_removals
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY membership_removals_system ON membership_removals
    USING (vf_is_system()) WITH CHECK (vf_is_system());

-- Token buckets of the rate limiter: one per organization and route class (`org:writes`)
-- and one per member and class (`user:<uuid>:writes`). `tokens` refills continuously up to
-- the class's capacity; a check is one INSERT … ON CONFLICT DO UPDATE … WHERE tokens >= 1,
-- so concurrent requests serialize on the row and never take more than the bucket holds.
CREATE TABLE rate_limit_buckets (
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bucket     text NOT NULL CHECK (length(bucket) <= 128),
    tokens     double precision NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, bucket)
);
ALTER TABLE rate_limit_buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE rate_limit_buckets FORCE ROW LEVEL SECURITY;
CREATE POLICY rate_limit_buckets_tenant ON rate_limit_buckets
    USING (org_id = vf_current_org()) WITH CHECK (org_id = vf_current_org());
CREATE POLICY rate_limit_buckets_system ON rate_limit_buckets
    USING (vf_is_system()) WITH CHECK (vf_is_system());

-- The audit log's filters (GET /api/audit?action=…&actor=…) within one organization.
CREATE INDEX audit_events_org_action ON audit_events (org_id, action, occurred_at DESC, id);
CREATE INDEX audit_events_org_actor ON audit_events (org_id, actor_label, occurred_at DESC, id);
