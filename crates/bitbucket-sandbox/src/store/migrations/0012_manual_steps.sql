-- A step with `trigger: manual` pauses its run before it (the run's state is then PAUSED, shown
-- as IN_PROGRESS with stage PAUSED).
ALTER TABLE pipeline_steps ADD COLUMN manual INTEGER NOT NULL DEFAULT 0;
