"""The memory service: stores clips durably and searches them (ARCHITECTURE.md §2)."""
