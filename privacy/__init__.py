"""Privacy across every domain: the retention purge and the erasure of one conversation."""
