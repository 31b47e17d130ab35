-- OAuth 2.0, as Bitbucket Cloud offers it: consumers (apps) with a client id and secret,
-- authorization codes (one use, ten minutes, PKCE optional), and access and refresh tokens.
-- Secrets, codes and tokens rest as sha256 digests.
CREATE TABLE IF NOT EXISTS oauth_consumers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL UNIQUE,
    secret_digest TEXT NOT NULL,
    name TEXT NOT NULL,
    callback_url TEXT NOT NULL,
    -- Space-separated, e.g. `repository pullrequest:write`.
    scopes TEXT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES users(id),
    created_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS oauth_codes (
    code_digest TEXT PRIMARY KEY,
    consumer_id INTEGER NOT NULL REFERENCES oauth_consumers(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    scopes TEXT NOT NULL,
    redirect_uri TEXT,
    code_challenge TEXT,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS oauth_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    access_digest TEXT NOT NULL UNIQUE,
    refresh_digest TEXT UNIQUE,
    consumer_id INTEGER NOT NULL REFERENCES oauth_consumers(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    scopes TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    -- Set when the refresh token was used (it rotates) or the grant was revoked.
    refresh_used INTEGER NOT NULL DEFAULT 0
);
