-- How many snapshots the DuckLake catalog keeps.
SELECT count(*) FROM ducklake_snapshots('catalog');
