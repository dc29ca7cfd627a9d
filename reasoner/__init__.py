"""The reasoner service: answers questions about the streams, citing the clips it relied on."""
