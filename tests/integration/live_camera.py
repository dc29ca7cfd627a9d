"""A live camera for tests: a video file served as live HTTP MPEG-TS on loopback, paced at real time.

    with LiveCamera(video) as camera:
        ... add_stream("gate", camera.url) ...

What `ffmpeg -re -i video.mp4 -c copy -f mpegts -listen 1 http://...` would do (there is no ffmpeg binary
here, and PyAV cannot open FFmpeg's listening HTTP server): each viewer gets the file from its start,
remuxed without re-encoding, one packet at a time when its presentation time comes. `stop()` ends every
connection, as a camera that goes off the network; a new `LiveCamera` on the same port brings it back.
"""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path
from typing import Any

import av

from tests.integration.servers import HOST, free_port


class LiveCamera:
    def __init__(self, video: Path, port: int | None = None) -> None:
        self.video = video
        self.port = port or free_port()
        self.viewers = 0  # connections served so far
        self._stopping = threading.Event()
        self._server = http.server.ThreadingHTTPServer((HOST, self.port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-camera", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/live.ts"

    def start(self) -> LiveCamera:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ends every connection and stops listening."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> LiveCamera:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        camera = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                camera.viewers += 1
                self.send_response(200)
                self.send_header("Content-Type", "video/mp2t")
                self.end_headers()
                try:
                    camera._stream_to(self.wfile)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the viewer left

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        return Handler

    def _stream_to(self, sink_file: Any) -> None:
        with av.open(str(self.video)) as source:
            video = source.streams.video[0]
            # flush_packets: each packet goes out at once, as a camera's would, not in 32 KiB chunks.
            with av.open(sink_file, mode="w", format="mpegts", options={"flush_packets": "1"}) as sink:
                out = sink.add_stream_from_template(video)
                started = time.monotonic()
                for packet in source.demux(video):
                    if packet.dts is None:  # the demuxer's end-of-stream marker
                        continue
                    if self._stopping.wait(max(0.0, started + float(packet.pts * video.time_base) - time.monotonic())):
                        return
                    packet.stream = out
                    sink.mux(packet)
