-- Comments on commits, optionally on a line of the commit's diff or in reply to another;
-- the same columns as `pr_comments`, keyed by the commit's full hash.
CREATE TABLE IF NOT EXISTS commit_comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    commit_hash TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    content TEXT NOT NULL,
    parent_id INTEGER REFERENCES commit_comments(id),
    inline_path TEXT,
    inline_from INTEGER,
    inline_to INTEGER,
    deleted INTEGER NOT NULL DEFAULT 0,
    resolved_by INTEGER REFERENCES users(id),
    resolved_on TEXT,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS commit_comments_by_commit ON commit_comments (repo_id, commit_hash);
