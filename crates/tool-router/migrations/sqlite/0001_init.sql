-- Projects own API keys, sessions and connections; nothing crosses a project.
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Keys are stored as the SHA-256 of the key; the key itself is shown once.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    key_hash BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    user_id TEXT NOT NULL,
    config TEXT NOT NULL,
    config_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX sessions_by_project ON sessions(project_id);

-- Credentials are sealed by the vault (nonce || ciphertext), bound to project, user and toolkit.
CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    user_id TEXT NOT NULL,
    toolkit TEXT NOT NULL,
    kind TEXT NOT NULL,
    credentials BLOB NOT NULL,
    account_name TEXT NOT NULL,
    account_uuid TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (project_id, user_id, toolkit)
);

-- Auth links are stored as the SHA-256 of their token; one use, until they expire.
CREATE TABLE auth_links (
    token_hash BLOB PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    toolkit TEXT NOT NULL,
    -- The id the connection made through this link gets, announced when the link is made.
    connection_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    created_at INTEGER NOT NULL
);
