-- For several routers on one database.
-- Which instance refreshes a connection's OAuth tokens: the one whose lease (unix seconds)
-- is set and unexpired, so each connection is refreshed once.
ALTER TABLE connections ADD COLUMN refresh_lease_until INTEGER;
-- A value sealed by the vault when the database was first used: a router whose master key
-- cannot open it refuses to start, rather than failing on every user's credentials later.
CREATE TABLE vault_check (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sealed BLOB NOT NULL
);
