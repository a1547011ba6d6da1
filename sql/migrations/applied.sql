-- The migrations applied so far: version -> checksum.
SELECT version, checksum FROM schema_migrations ORDER BY version;
