-- PostgreSQL's text of sqlite/0004_instances.sql.
ALTER TABLE connections ADD COLUMN refresh_lease_until BIGINT;
CREATE TABLE vault_check (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    sealed BYTEA NOT NULL
);
