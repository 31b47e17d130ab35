-- Tasks on pull requests: to-dos that are open (UNRESOLVED) or done (RESOLVED), optionally
-- under a comment.
CREATE TABLE IF NOT EXISTS pr_tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL,
    pr_id INTEGER NOT NULL,
    creator_id INTEGER NOT NULL REFERENCES users(id),
    content TEXT NOT NULL,
    comment_id INTEGER REFERENCES pr_comments(id) ON DELETE CASCADE,
    state TEXT NOT NULL DEFAULT 'UNRESOLVED',
    pending INTEGER NOT NULL DEFAULT 0,
    resolved_by INTEGER REFERENCES users(id),
    resolved_on TEXT,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    FOREIGN KEY (repo_id, pr_id) REFERENCES pullrequests(repo_id, id) ON DELETE CASCADE
);
