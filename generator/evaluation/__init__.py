"""The eval suite: retrieval quality, and (later) scorers for drafted assets."""
