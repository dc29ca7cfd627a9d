"""Perception's core: plain Python, no gRPC. Per stream: source → sampler → frame cache → encoder →
clip assembler → captioner → ClipSink."""
