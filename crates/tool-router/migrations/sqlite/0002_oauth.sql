-- OAuth sign-ins in flight: the `state` sent to Bitbucket (hashed), the auth link it
-- completes (by its token's hash) and the PKCE verifier, sealed by the vault. One use, until
-- they expire.
CREATE TABLE oauth_states (
    state_hash BLOB PRIMARY KEY,
    link_hash BLOB NOT NULL REFERENCES auth_links(token_hash) ON DELETE CASCADE,
    verifier BLOB NOT NULL,
    expires_at INTEGER NOT NULL
);
