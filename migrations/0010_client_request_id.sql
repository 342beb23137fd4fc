-- A client's x-request-id is kept beside the server's own id, never in its place.
ALTER TABLE audit_events
    ADD COLUMN client_request_id text CHECK (char_length(client_request_id) <= 128);
