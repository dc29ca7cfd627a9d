"""`longwatch eval`: evaluation streams generated from a seed, scored through the public gRPC API."""
