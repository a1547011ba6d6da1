"""The stages, one module (or package) each: discover (and the channel registry), download, transcribe,
summarize. A stage works on one video's records and artifacts; it never touches the catalog."""
