"""The top layer: the `longwatch` command (cli.py and its *_commands.py), the demo, and the evaluation
harness (eval/). It uses the SDK and types in `longwatch` and the launcher in `orchestration`; nothing
below imports it."""
