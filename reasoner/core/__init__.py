"""The reasoner's logic: plain Python, no grpc. Retrieval and the LLM come in through Protocols."""
