-- How many postings rows there are, and for how many distinct terms: their ratio says when to merge.
SELECT count(*), count(DISTINCT term) FROM search_postings;
