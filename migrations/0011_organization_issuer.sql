-- The token issuer that first acted for an organization (Clerk's, or the local dev issuer).
-- A token of another issuer for the same org id is refused, so a dev token can never act
-- on a Clerk organization, nor the reverse. NULL until a member's first request: rows made
-- by Clerk webhooks, operators or the legacy import are claimed by the first token then.
ALTER TABLE organizations ADD COLUMN issuer text CHECK (char_length(issuer) <= 512);
