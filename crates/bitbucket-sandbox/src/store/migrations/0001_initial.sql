-- The first schema, as the sandbox shipped it before numbered migrations.
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL,
    created_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS workspaces (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    is_private INTEGER NOT NULL DEFAULT 1,
    created_on TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS memberships (
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    permission TEXT NOT NULL,
    added_on TEXT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    is_private INTEGER NOT NULL DEFAULT 1,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    UNIQUE (workspace_id, key)
);
CREATE TABLE IF NOT EXISTS repositories (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    slug TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    is_private INTEGER NOT NULL DEFAULT 1,
    has_issues INTEGER NOT NULL DEFAULT 0,
    has_wiki INTEGER NOT NULL DEFAULT 0,
    fork_policy TEXT NOT NULL DEFAULT 'allow_forks',
    language TEXT NOT NULL DEFAULT '',
    mainbranch TEXT NOT NULL DEFAULT 'main',
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    next_issue_id INTEGER NOT NULL DEFAULT 1,
    next_pr_id INTEGER NOT NULL DEFAULT 1,
    UNIQUE (workspace_id, slug)
);
CREATE TABLE IF NOT EXISTS issues (
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    id INTEGER NOT NULL,
    title TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    priority TEXT NOT NULL,
    state TEXT NOT NULL,
    reporter_id INTEGER REFERENCES users(id),
    assignee_id INTEGER REFERENCES users(id),
    votes INTEGER NOT NULL DEFAULT 0,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    edited_on TEXT,
    PRIMARY KEY (repo_id, id)
);
CREATE TABLE IF NOT EXISTS issue_comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL,
    issue_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    content TEXT NOT NULL,
    created_on TEXT NOT NULL,
    updated_on TEXT,
    FOREIGN KEY (repo_id, issue_id) REFERENCES issues(repo_id, id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS pullrequests (
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    id INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    author_id INTEGER NOT NULL REFERENCES users(id),
    source_branch TEXT NOT NULL,
    source_commit TEXT NOT NULL,
    destination_branch TEXT NOT NULL,
    destination_commit TEXT NOT NULL,
    close_source_branch INTEGER NOT NULL DEFAULT 0,
    draft INTEGER NOT NULL DEFAULT 0,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    PRIMARY KEY (repo_id, id)
);
CREATE TABLE IF NOT EXISTS pr_reviewers (
    repo_id INTEGER NOT NULL,
    pr_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (repo_id, pr_id, user_id),
    FOREIGN KEY (repo_id, pr_id) REFERENCES pullrequests(repo_id, id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS snippets (
    id INTEGER PRIMARY KEY,
    encoded_id TEXT NOT NULL,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    creator_id INTEGER NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    is_private INTEGER NOT NULL DEFAULT 1,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    UNIQUE (workspace_id, encoded_id)
);
CREATE TABLE IF NOT EXISTS snippet_files (
    snippet_id INTEGER NOT NULL REFERENCES snippets(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (snippet_id, path)
);
CREATE TABLE IF NOT EXISTS snippet_comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    snippet_id INTEGER NOT NULL REFERENCES snippets(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id),
    content TEXT NOT NULL,
    parent_id INTEGER REFERENCES snippet_comments(id),
    created_on TEXT NOT NULL,
    updated_on TEXT
);
