-- One row per tool execution a session asked for: who, which tool, how it ended, how long
-- it took, and a SHA-256 of the arguments (never the arguments themselves).
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    tool TEXT NOT NULL,
    -- `ok`, `error` (it ran and failed) or `refused` (not run: arguments, policy, approval).
    outcome TEXT NOT NULL,
    latency_us INTEGER NOT NULL,
    arguments_sha256 TEXT NOT NULL
);
CREATE INDEX audit_by_project ON audit(project_id, at_ms);
