"""longwatch: watch long video streams, remember them, answer questions with evidence.

This package is the public face: the client SDK (`longwatch.client`), the CLI
(`longwatch.cli`), the shared error taxonomy and domain types, and the generated
gRPC contracts under `longwatch.{perception,memory,reasoner}.v1`.
"""

__version__ = "0.1.0"
