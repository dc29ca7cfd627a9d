"""longwatch: watch long video streams, remember them, answer questions with evidence.

This package is the bottom layer every other one uses: the client SDK (`longwatch.client`), the shared
error taxonomy, domain types and settings, the gRPC server base, security and tracing, and the generated
gRPC contracts under `longwatch.{perception,memory,reasoner}.v1`. The `longwatch` command, the demo and
the evaluation harness are the top layer, in `longwatch_cli`; nothing here imports it or `orchestration`.
"""

__version__ = "0.1.0"
