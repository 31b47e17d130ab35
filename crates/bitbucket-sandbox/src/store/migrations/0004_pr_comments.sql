-- Comments on pull requests, optionally on a line of the diff or in reply to another.
CREATE TABLE IF NOT EXISTS pr_comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL,
    pr_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    content TEXT NOT NULL,
    parent_id INTEGER REFERENCES pr_comments(id),
    inline_path TEXT,
    inline_from INTEGER,
    inline_to INTEGER,
    deleted INTEGER NOT NULL DEFAULT 0,
    resolved_by INTEGER REFERENCES users(id),
    resolved_on TEXT,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    FOREIGN KEY (repo_id, pr_id) REFERENCES pullrequests(repo_id, id) ON DELETE CASCADE
);
