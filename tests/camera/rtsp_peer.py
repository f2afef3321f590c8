"""An RTSP camera for the tests: GStreamer's RTSP server (gst-rtsp-server) streaming JPEG frames as RTP/JPEG.

A peer we did not write, as an IP camera is: run it with Debian's
``/usr/bin/python3`` (PyGObject and the GStreamer typelibs are Debian
packages, not in the harness's venv):

    /usr/bin/python3 rtsp_peer.py FRAME.jpg [FRAME.jpg ...] [--fps 10]

It listens on 127.0.0.1 on a port the OS picks, prints one JSON line
``{"url": "rtsp://127.0.0.1:PORT/camera", "width": W, "height": H}`` and
serves the frames in a loop, live, at ``--fps``, until its standard input
closes (its parent is gone) or it is killed. ``--check`` only says whether
GStreamer and the elements it needs are there (exit 0, or 3 naming what is
missing).
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import sys
import threading

NEEDED = ("appsrc", "jpegparse", "rtpjpegpay")


def _load():  # noqa: ANN202 - the gi modules are typed only at run time
    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer
    Gst.init(None)
    missing = [name for name in NEEDED if Gst.ElementFactory.find(name) is None]
    return GLib, Gst, GstRtspServer, missing


def _jpeg_size(data: bytes) -> tuple[int, int]:
    i = 2
    while i + 9 <= len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xC3:
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    raise SystemExit(f"rtsp_peer: no JPEG frame header in a frame of {len(data)} bytes")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("frames", nargs="*")
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    try:
        GLib, Gst, GstRtspServer, missing = _load()
    except (ImportError, ValueError) as exc:
        print(f"rtsp_peer: {exc}", file=sys.stderr)
        return 3
    if missing:
        print(f"rtsp_peer: GStreamer elements missing: {', '.join(missing)}", file=sys.stderr)
        return 3
    if args.check:
        return 0
    frames = []
    for path in args.frames:
        with open(path, "rb") as handle:
            frames.append(handle.read())
    if not frames:
        parser.error("give at least one JPEG frame")
    width, height = _jpeg_size(frames[0])

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")  # the OS picks the port
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(f"( appsrc name=src is-live=true format=time do-timestamp=true "
                       f"caps=image/jpeg,width={width},height={height},framerate={args.fps}/1 "
                       "! jpegparse ! rtpjpegpay name=pay0 pt=26 )")
    factory.set_shared(True)  # one camera, however many clients

    def configure(_factory: object, media: object) -> None:
        source = media.get_element().get_by_name_recurse_up("src")  # type: ignore[attr-defined]
        count = [0]

        def push() -> bool:  # a live camera: a frame every 1/fps seconds, stamped when it is taken
            source.emit("push-buffer", Gst.Buffer.new_wrapped(frames[count[0] % len(frames)]))
            count[0] += 1
            return True

        timer = GLib.timeout_add(max(1, 1000 // args.fps), push)
        media.connect("unprepared", lambda *_: GLib.source_remove(timer))

    factory.connect("media-configure", configure)
    server.get_mount_points().add_factory("/camera", factory)
    server.attach(None)
    port = server.get_bound_port()
    loop = GLib.MainLoop()

    def watch_parent() -> None:
        while os.read(0, 4096):  # returns b"" when the parent closes our stdin or dies
            pass
        GLib.idle_add(loop.quit)

    threading.Thread(target=watch_parent, daemon=True).start()
    print(json.dumps({"url": f"rtsp://127.0.0.1:{port}/camera", "width": width, "height": height}), flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
