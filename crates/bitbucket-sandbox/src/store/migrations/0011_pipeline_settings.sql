-- Pipeline settings of a repository: schedules (kept, not fired), self-hosted runners as
-- registered (none connects to the sandbox), and the SSH hosts steps may trust.
CREATE TABLE IF NOT EXISTS pipeline_schedules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    uuid TEXT NOT NULL UNIQUE,
    ref_name TEXT NOT NULL,
    selector_type TEXT NOT NULL,
    selector_pattern TEXT NOT NULL,
    cron_pattern TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS pipeline_runners (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- JSON array of labels.
    labels TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'UNREGISTERED',
    created_on TEXT NOT NULL,
    updated_on TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS pipeline_known_hosts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    uuid TEXT NOT NULL UNIQUE,
    hostname TEXT NOT NULL,
    key_type TEXT NOT NULL,
    key TEXT NOT NULL,
    UNIQUE (repo_id, hostname)
);
