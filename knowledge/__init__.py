"""The clinic's knowledge base: sources, answer cards grounded in verbatim quotes, and passage retrieval."""
