-- Who approved a pull request or requested changes on it, and when.
CREATE TABLE IF NOT EXISTS pr_participants (
    repo_id INTEGER NOT NULL,
    pr_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    approved INTEGER NOT NULL DEFAULT 0,
    state TEXT,
    participated_on TEXT NOT NULL,
    PRIMARY KEY (repo_id, pr_id, user_id),
    FOREIGN KEY (repo_id, pr_id) REFERENCES pullrequests(repo_id, id) ON DELETE CASCADE
);
