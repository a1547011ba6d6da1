-- Which migrations (sql/schema/<version>_<name>.sql) this catalog has had, each applied once (catalog.apply_schema).
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER NOT NULL,
    name        VARCHAR NOT NULL,
    checksum    VARCHAR NOT NULL,      -- of the statements applied, to notice a migration edited later
    applied_at  TIMESTAMPTZ NOT NULL
);
