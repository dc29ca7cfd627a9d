"""The perception service: video sources in, ClipRecords out to the memory service (ARCHITECTURE.md §1)."""
