-- DuckLake upkeep (maintenance.maintain): small files of many loads merged, snapshots before
-- $older_than expired, then the files only they needed deleted.
CALL ducklake_merge_adjacent_files('catalog');
CALL ducklake_expire_snapshots('catalog', older_than => $older_than);
CALL ducklake_cleanup_old_files('catalog', older_than => $older_than);
