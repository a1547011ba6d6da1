-- videos.url is the URL users open. Discover used to keep yt-dlp's internal `#__youtubedl_smuggle=…`
-- fragment (a feed item's <guid>, for yt-dlp's own extractor) in it, and exports carried it; it now
-- stores the public URL (discover.public_url). This drops the fragment from rows written before, once.
-- A plain UPDATE: the embedded catalog and DuckLake (no keys, no ON CONFLICT) both run it.
UPDATE videos SET url = split_part(url, '#__youtubedl_smuggle', 1)
WHERE contains(url, '#__youtubedl_smuggle');
