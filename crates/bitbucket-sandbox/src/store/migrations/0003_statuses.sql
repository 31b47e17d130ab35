-- Build statuses reported on commits, one per key and commit.
CREATE TABLE IF NOT EXISTS commit_statuses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    commit_hash TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    refname TEXT,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    UNIQUE (repo_id, commit_hash, key)
);
