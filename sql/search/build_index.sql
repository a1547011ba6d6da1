-- The BM25 full-text index over search_docs (English stemmer and stop words), replaced whole.
-- Needs the fts extension loaded (extensions.load_fts); creates schema fts_main_search_docs.
PRAGMA create_fts_index('search_docs', 'doc_id', 'text', stemmer = 'porter', stopwords = 'english', overwrite = 1);
