-- Whether the catalog holds any vectors of $model (a semantic search without them says what to run).
SELECT EXISTS (SELECT 1 FROM embeddings WHERE model = $model);
