-- Code Insights: reports on commits (one per external id and commit) and their annotations
-- (one per external id and report); deleting a report deletes its annotations.
CREATE TABLE IF NOT EXISTS commit_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    commit_hash TEXT NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    external_id TEXT NOT NULL,
    title TEXT NOT NULL,
    details TEXT NOT NULL,
    report_type TEXT NOT NULL,
    result TEXT,
    reporter TEXT,
    link TEXT,
    logo_url TEXT,
    remote_link_enabled INTEGER NOT NULL DEFAULT 0,
    -- The `data` array as JSON.
    data TEXT NOT NULL DEFAULT '[]',
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    UNIQUE (repo_id, commit_hash, external_id)
);

CREATE TABLE IF NOT EXISTS report_annotations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id INTEGER NOT NULL REFERENCES commit_reports(id) ON DELETE CASCADE,
    uuid TEXT NOT NULL UNIQUE,
    external_id TEXT NOT NULL,
    annotation_type TEXT NOT NULL,
    summary TEXT NOT NULL,
    details TEXT,
    path TEXT,
    line INTEGER,
    result TEXT,
    severity TEXT,
    link TEXT,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL,
    UNIQUE (report_id, external_id)
);
