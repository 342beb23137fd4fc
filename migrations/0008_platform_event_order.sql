-- Clerk events delivered out of order (follows 0003_platform, kept apart because 0003 was
-- already merged and may be applied somewhere: an applied migration must never change).
--
-- The time of the last Clerk event applied to a row, so an older event delivered late does
-- not undo a newer one (a role change, a rename). NULL: no event applied yet (the row was
-- created by a session token). No new table, so no new policy: the tables' own apply.
ALTER TABLE organizations ADD COLUMN clerk_event_at timestamptz;
ALTER TABLE users ADD COLUMN clerk_event_at timestamptz;
ALTER TABLE memberships ADD COLUMN clerk_event_at timestamptz;
