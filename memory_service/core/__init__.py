"""The memory service's logic in plain Python: no grpc here (CONVENTIONS.md rule 1)."""
