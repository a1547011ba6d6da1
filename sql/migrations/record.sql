-- Record migration $version as applied (again, for a redefined view or macro).
DELETE FROM schema_migrations WHERE version = $version;
INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($version, $name, $checksum, $now);
