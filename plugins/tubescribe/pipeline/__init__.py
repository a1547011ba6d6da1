"""What each DAG task does (steps.py), built from the stages and the catalog: the batch runner that keeps
one bad video from stopping the others (batch.py), platform politeness and blocks, progress events."""
