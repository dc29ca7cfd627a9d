"""`longwatch serve`: the Ray Serve application of deploy/ray-serve.yaml, started with Ray's own `serve run`.

    longwatch serve                                  # deploy/ray-serve.yaml on a local Ray instance
    longwatch serve my-serve.yaml --address auto     # on the running Ray cluster this node belongs to

The file is checked first (its longwatch application's `args`), so a typo is named before Ray starts.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import pydantic
import yaml

from longwatch import errors
from longwatch_cli.output import EXIT_INTERRUPTED

DEFAULT_CONFIG = Path("deploy/ray-serve.yaml")
_BUILDER = "orchestration.ray_serve:build_app"


def add_serve_parser(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve",
        help="run longwatch as a Ray Serve application (one gRPC ingress for all three services)",
        description="Starts the Ray Serve application a serve config file describes, with Ray's `serve run`; "
        "Ctrl-C stops it.",
    )
    serve.add_argument("config", nargs="?", type=Path, default=DEFAULT_CONFIG, help="serve config YAML")
    serve.add_argument("--address", default="", help="Ray cluster to run on (auto, ray://host:10001); default: local")
    serve.set_defaults(handler=_cmd_serve)


def check_config(path: Path) -> None:
    """InvalidArgument, naming the file and what to change, unless `path` holds a longwatch application
    whose args build."""
    from orchestration.ray_serve import AppConfig

    try:
        document = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise errors.InvalidArgument(f"{path}: cannot be read ({exc.strerror}); name a serve config file") from None
    except yaml.YAMLError as exc:
        raise errors.InvalidArgument(f"{path}: not valid YAML: {exc}") from None
    applications = document.get("applications") if isinstance(document, dict) else None
    ours = [app for app in applications or [] if isinstance(app, dict) and app.get("import_path") == _BUILDER]
    if not ours:
        raise errors.InvalidArgument(f"{path}: no application with import_path {_BUILDER}; see {DEFAULT_CONFIG}")
    for app in ours:
        try:
            AppConfig.model_validate(app.get("args") or {}).memory_address()
        except (pydantic.ValidationError, ValueError) as exc:
            raise errors.InvalidArgument(f"{path}: application {app.get('name')!r} args: {exc}") from None


def _cmd_serve(args: argparse.Namespace, connect: object) -> int:
    check_config(args.config)
    serve_cli = shutil.which("serve", path=str(Path(sys.executable).parent)) or shutil.which("serve")
    if serve_cli is None:
        raise errors.FailedPrecondition("Ray Serve's `serve` command is not installed; pip install 'ray[serve]'")
    command = [serve_cli, "run", str(args.config)]
    if args.address:
        command += ["--address", args.address]
    process = subprocess.Popen(command)
    try:
        return process.wait()
    except KeyboardInterrupt:  # the same Ctrl-C reached `serve run`, which shuts the application down
        process.wait()
        return EXIT_INTERRUPTED
