"""An RTSP camera for tests: GStreamer's RTSP server serving an H.264 MP4 on a loopback port, paced at real time.

    with RtspCamera(video) as camera:      # rtsp://127.0.0.1:<free port>/live
        ... add_stream("gate", camera.url) ...
        camera.stop()                      # the camera drops off the network
        camera.start()                     # and comes back on the same port

The GStreamer bindings are Debian's (`python3-gi`, `gir1.2-gst-rtsp-server-1.0`,
`gstreamer1.0-plugins-{base,good,bad}`), importable by /usr/bin/python3 only, not by the venv: this file is
also the server script, run by that interpreter (`/usr/bin/python3 rtsp_camera.py --video V --port P`), so
it imports nothing but the standard library at the top. Each viewer gets the file from its start (an
unshared media), and the file is not looped: a test takes what it needs within the file's length.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"
SYSTEM_PYTHON = "/usr/bin/python3"
PACKAGES = (
    "python3-gi",
    "gir1.2-gst-rtsp-server-1.0",
    "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good",
    "gstreamer1.0-plugins-bad",
)
# MP4 demuxer (good), H.264 parser (bad), RTP payloader (good): what the pipeline below needs.
_ELEMENTS = ("filesrc", "qtdemux", "h264parse", "rtph264pay")
_READY_TIMEOUT_S = 20.0
_POLL_S = 0.05
_PROBE = f"""
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer
Gst.init(None)
missing = [name for name in {_ELEMENTS!r} if Gst.ElementFactory.find(name) is None]
assert not missing, "missing GStreamer elements: " + ", ".join(missing)
"""


def missing_reason() -> str | None:
    """Why an RTSP camera cannot run here (the packages to install), or None when it can."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"no {SYSTEM_PYTHON} for GStreamer's Python bindings; install {' '.join(PACKAGES)}"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", _PROBE], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        last_line = (probe.stderr.strip().splitlines() or ["unknown error"])[-1]
        return f"GStreamer's RTSP server is not usable ({last_line}); install {' '.join(PACKAGES)} (make system-deps)"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class RtspCamera:
    """The server as a child process of /usr/bin/python3; `stop()` and `start()` may repeat on the same port."""

    def __init__(self, video: Path, port: int | None = None, path: str = "live") -> None:
        self.video = video
        self.port = port or free_port()
        self.path = path
        self._process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"rtsp://{HOST}:{self.port}/{self.path}"

    def start(self) -> RtspCamera:
        """Starts serving and returns once the port accepts connections (RuntimeError with its output if not)."""
        command = [SYSTEM_PYTHON, str(Path(__file__).resolve()), "--video", str(self.video), "--port", str(self.port)]
        self._process = subprocess.Popen(
            [*command, "--path", self.path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"the RTSP camera exited ({self._process.returncode}): {self._process.stdout.read()}"
                )
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.port), timeout=1.0):
                return self
            time.sleep(_POLL_S)
        self.stop()
        raise RuntimeError(f"the RTSP camera did not accept connections on port {self.port} in {_READY_TIMEOUT_S} s")

    def stop(self) -> None:
        """Ends every connection and stops listening, as a camera that goes off the network."""
        if self._process is None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()
        self._process = None

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> RtspCamera:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# ---- the server script (run by /usr/bin/python3) ----------------------------------------------------


def serve(video: Path, port: int, path: str) -> None:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(HOST)
    server.set_service(str(port))
    factory = GstRtspServer.RTSPMediaFactory()
    # config-interval=-1: SPS/PPS with every keyframe, so a viewer may start at any keyframe.
    factory.set_launch(
        f'( filesrc location="{video}" ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )'
    )
    factory.set_shared(False)  # each viewer from the file's start
    server.get_mount_points().add_factory(f"/{path}", factory)
    if server.attach(None) == 0:
        raise SystemExit(f"cannot listen on {HOST}:{port}")
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    print(f"serving {video} on rtsp://{HOST}:{port}/{path}", flush=True)
    loop.run()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve an H.264 MP4 over RTSP on loopback (GStreamer).")
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="live")
    args = parser.parse_args()
    if not args.video.is_file():
        raise SystemExit(f"no such video: {args.video}")
    serve(args.video.resolve(), args.port, args.path)


if __name__ == "__main__":
    os.environ.setdefault("GST_DEBUG", "1")  # errors only: keep the test output clean
    sys.exit(main())
