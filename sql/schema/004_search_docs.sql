-- What `tubescribe search` searches, and its BM25 index, kept current by every load
-- (plugins/tubescribe/search.py). All derived from the other tables.
--
-- An inverted index in plain tables, because DuckDB's fts extension can only rebuild its index whole
-- (5 s per load at 10k videos, and growing with the catalog). Each load appends its own documents' postings,
-- sorted by term, so a load costs what its videos cost; a query reads only the stretches of
-- search_postings that hold its terms (DuckDB skips the rest by each block's min/max term). Documents
-- of reloaded videos are listed in search_dead_docs and left out of every score until a merge
-- (sql/search/merge.sql) rewrites the postings without them, in term order again. fts is still used
-- for its Porter stemmer (`stem`).

-- One row per transcript segment and per part of each video's newest summary.
CREATE TABLE IF NOT EXISTS search_docs (
    doc_id    BIGINT NOT NULL,          -- the document's key in search_postings (unique among live and dead docs)
    video_id  VARCHAR NOT NULL,
    kind      VARCHAR NOT NULL,         -- 'segment', 'introduction', 'section' or 'topics'
    part      INTEGER NOT NULL,         -- segment idx, section idx, or 0
    start_s   DOUBLE NOT NULL,          -- where a hit should open the video
    text      VARCHAR NOT NULL,
    terms     INTEGER                   -- how many indexed terms the text has (BM25's document length)
);
-- Catalogs made before the index moved out of fts (2026-11): the column, and the old index, dropped.
ALTER TABLE search_docs ADD COLUMN IF NOT EXISTS terms INTEGER;
DROP SCHEMA IF EXISTS fts_main_search_docs CASCADE;

-- One row per (term, document): how often the term occurs there and the document's length.
CREATE TABLE IF NOT EXISTS search_postings (
    term    VARCHAR NOT NULL,
    doc_id  BIGINT NOT NULL,
    tf      INTEGER NOT NULL,
    len     INTEGER NOT NULL
);

-- Documents replaced since the last merge; their postings are still in search_postings.
CREATE TABLE IF NOT EXISTS search_dead_docs (doc_id BIGINT NOT NULL);

-- Which index format the tables hold (search refuses to run until a load has built this one), and
-- how many postings there were after the last full build or merge (when to merge again).
CREATE TABLE IF NOT EXISTS search_index_state (
    format       INTEGER NOT NULL,
    merged_at    TIMESTAMPTZ NOT NULL,
    merged_rows  BIGINT NOT NULL
);

-- Text -> indexed terms: lower case, accents off, split on anything but letters and digits, English
-- stop words out, Porter stems. Documents and queries both go through it, so they always agree.
CREATE OR REPLACE MACRO search_tokens(text) AS list_transform(
    list_filter(
        string_split_regex(lower(strip_accents(text)), '[^a-z0-9]+'),
        w -> w <> '' AND NOT list_contains([
            'a', 'about', 'above', 'after', 'again', 'against', 'all', 'am', 'an', 'and', 'any', 'are',
            'as', 'at', 'be', 'because', 'been', 'before', 'being', 'below', 'between', 'both', 'but', 'by',
            'can', 'could', 'did', 'do', 'does', 'doing', 'down', 'during', 'each', 'few', 'for', 'from',
            'further', 'had', 'has', 'have', 'having', 'he', 'her', 'here', 'hers', 'herself', 'him',
            'himself', 'his', 'how', 'i', 'if', 'in', 'into', 'is', 'it', 'its', 'itself', 'just', 'me',
            'more', 'most', 'my', 'myself', 'no', 'nor', 'not', 'now', 'of', 'off', 'on', 'once', 'only',
            'or', 'other', 'our', 'ours', 'ourselves', 'out', 'over', 'own', 's', 'same', 'she', 'should',
            'so', 'some', 'such', 't', 'than', 'that', 'the', 'their', 'theirs', 'them', 'themselves',
            'then', 'there', 'these', 'they', 'this', 'those', 'through', 'to', 'too', 'under', 'until',
            'up', 'very', 'was', 'we', 'were', 'what', 'when', 'where', 'which', 'while', 'who', 'whom',
            'why', 'will', 'with', 'would', 'you', 'your', 'yours', 'yourself', 'yourselves'], w)),
    w -> stem(w, 'porter'));

-- BM25 (k1 = 1.2, b = 0.75, fts's defaults) of every live document holding any term of `query`.
-- Usable by analysts too: SELECT * FROM search_scores('borrow checker') JOIN search_docs USING (doc_id).
CREATE OR REPLACE MACRO search_scores(query) AS TABLE
WITH matched AS (
    SELECT term, doc_id, tf, len FROM search_postings
    WHERE term IN (SELECT unnest(search_tokens(query)))
      AND doc_id NOT IN (SELECT doc_id FROM search_dead_docs)
),
corpus AS (SELECT count(*) AS docs, avg(terms) AS avg_terms FROM search_docs),
idf AS (
    SELECT term, ln(1 + (any_value(c.docs) - count(*) + 0.5) / (count(*) + 0.5)) AS idf
    FROM matched, corpus c GROUP BY term
)
SELECT m.doc_id, sum(i.idf * m.tf * 2.2 / (m.tf + 1.2 * (0.25 + 0.75 * m.len / c.avg_terms))) AS score
FROM matched m JOIN idf i USING (term), corpus c
GROUP BY m.doc_id;
