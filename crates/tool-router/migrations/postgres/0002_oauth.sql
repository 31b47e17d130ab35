-- PostgreSQL's text of sqlite/0002_oauth.sql.
CREATE TABLE oauth_states (
    state_hash BYTEA PRIMARY KEY,
    link_hash BYTEA NOT NULL REFERENCES auth_links(token_hash) ON DELETE CASCADE,
    verifier BYTEA NOT NULL,
    expires_at BIGINT NOT NULL
);
