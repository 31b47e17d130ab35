-- Pipelines: runs of a repository's bitbucket-pipelines.yml, their steps (with the log each
-- wrote), variables at workspace, repository and deployment-environment level, environments and
-- the deployments that steps naming an environment record.
CREATE TABLE IF NOT EXISTS pipelines_config (
    repo_id INTEGER PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
    enabled INTEGER NOT NULL DEFAULT 1,
    next_build_number INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS pipelines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    uuid TEXT NOT NULL UNIQUE,
    build_number INTEGER NOT NULL,
    creator_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- `branch` or `tag` with its name, or both NULL for a commit target.
    ref_type TEXT,
    ref_name TEXT,
    commit_hash TEXT NOT NULL,
    selector_type TEXT NOT NULL,
    selector_pattern TEXT,
    trigger_name TEXT NOT NULL,
    -- PENDING, IN_PROGRESS or COMPLETED; a completed run has a result (SUCCESSFUL, FAILED,
    -- ERROR, STOPPED), an ERROR its message.
    state TEXT NOT NULL,
    result TEXT,
    error_message TEXT,
    -- The run's own variables as JSON [{key, value, secured}].
    variables TEXT NOT NULL DEFAULT '[]',
    created_on TEXT NOT NULL,
    started_on TEXT,
    completed_on TEXT,
    UNIQUE (repo_id, build_number)
);

CREATE TABLE IF NOT EXISTS pipeline_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline_id INTEGER NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
    uuid TEXT NOT NULL UNIQUE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    -- The script lines as JSON.
    script TEXT NOT NULL,
    deployment TEXT,
    max_time_minutes INTEGER,
    -- PENDING, IN_PROGRESS or COMPLETED with SUCCESSFUL, FAILED, ERROR, STOPPED or NOT_RUN.
    state TEXT NOT NULL,
    result TEXT,
    error_message TEXT,
    started_on TEXT,
    completed_on TEXT,
    log TEXT NOT NULL DEFAULT '',
    UNIQUE (pipeline_id, position)
);

-- scope: 'workspace', 'repository' or 'environment'; owner_id is that row's id.
CREATE TABLE IF NOT EXISTS pipeline_variables (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    owner_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    secured INTEGER NOT NULL DEFAULT 0,
    UNIQUE (scope, owner_id, key)
);

CREATE TABLE IF NOT EXISTS environments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- Test, Staging or Production.
    environment_type TEXT NOT NULL,
    rank INTEGER NOT NULL,
    UNIQUE (repo_id, name)
);

CREATE TABLE IF NOT EXISTS deployments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    environment_id INTEGER NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
    pipeline_id INTEGER REFERENCES pipelines(id) ON DELETE SET NULL,
    step_uuid TEXT,
    commit_hash TEXT NOT NULL,
    release_name TEXT NOT NULL,
    deployer_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    -- IN_PROGRESS or COMPLETED with status SUCCESSFUL, FAILED or STOPPED.
    state TEXT NOT NULL,
    status TEXT,
    created_on TEXT NOT NULL,
    completed_on TEXT
);

CREATE TRIGGER IF NOT EXISTS repository_variables_go_with_it AFTER DELETE ON repositories
BEGIN
    DELETE FROM pipeline_variables WHERE scope = 'repository' AND owner_id = OLD.id;
END;

CREATE TRIGGER IF NOT EXISTS workspace_variables_go_with_it AFTER DELETE ON workspaces
BEGIN
    DELETE FROM pipeline_variables WHERE scope = 'workspace' AND owner_id = OLD.id;
END;

CREATE TRIGGER IF NOT EXISTS environment_variables_go_with_it AFTER DELETE ON environments
BEGIN
    DELETE FROM pipeline_variables WHERE scope = 'environment' AND owner_id = OLD.id;
END;
