#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A real RTSP server that accepts RECORD (GStreamer's gst-rtsp-server), for the publish tests.

  rtsp_record_server.py PORT [--refuse] [--user USER:PASSWORD]

Serves rtsp://127.0.0.1:PORT/cam for a publisher (ANNOUNCE, SETUP, RECORD) and
rtsp://127.0.0.1:PORT/play for viewers, who get what the publisher sends (re-packetized by
rtph265pay). With --refuse, /cam is a play-only mount: ANNOUNCE/RECORD are refused. With --user, /cam
takes only that user, authenticated with Digest (the password is everything after the first
':').
Prints "ready" on stderr once listening, and "recording" when a publisher's media is set up.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

Gst.init(None)
port = sys.argv[1]
refuse = "--refuse" in sys.argv[2:]
user = sys.argv[sys.argv.index("--user") + 1] if "--user" in sys.argv else None

viewers = []  # appsrc elements of the /play media


def on_sample(sink):
    sample = sink.emit("pull-sample")
    if sample is None:
        return Gst.FlowReturn.EOS
    buf = sample.get_buffer().copy()
    buf.pts = buf.dts = Gst.CLOCK_TIME_NONE  # the viewer's appsrc stamps its own time
    for src in list(viewers):
        if src.get_property("caps") is None:
            src.set_property("caps", sample.get_caps())
        if src.emit("push-buffer", buf) != Gst.FlowReturn.OK:
            viewers.remove(src)
    return Gst.FlowReturn.OK


def record_configured(_factory, media):
    sink = media.get_element().get_by_name("sink")
    sink.connect("new-sample", on_sample)
    print("recording", file=sys.stderr, flush=True)


def play_configured(_factory, media):
    src = media.get_element().get_by_name("src")
    viewers.append(src)
    media.connect("unprepared", lambda *_: src in viewers and viewers.remove(src))


server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
# Each client on a thread of its own: preparing a viewer's media waits for data, which reaches
# the server on the publisher's connection; with one thread for all it would wait forever.
server.get_thread_pool().set_max_threads(8)
mounts = server.get_mount_points()

record = GstRtspServer.RTSPMediaFactory()
record.set_launch(
    "( rtph265depay name=depay0 ! h265parse ! "
    "video/x-h265,stream-format=byte-stream,alignment=au ! "
    "appsink name=sink emit-signals=true sync=false )")
if not refuse:
    record.set_transport_mode(GstRtspServer.RTSPTransportMode.RECORD)
record.connect("media-configure", record_configured)
if user is not None:
    name, password = user.split(":", 1)
    auth = GstRtspServer.RTSPAuth()
    auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", "publisher")
    auth.add_digest(name, password, token)
    server.set_auth(auth)
    record.add_role_from_structure(Gst.Structure.new_from_string(
        "publisher, media.factory.access=(boolean)true, media.factory.construct=(boolean)true"))
mounts.add_factory("/cam", record)

play = GstRtspServer.RTSPMediaFactory()
play.set_launch(
    "( appsrc name=src is-live=true format=time do-timestamp=true ! "
    "h265parse config-interval=-1 ! rtph265pay name=pay0 pt=96 )")
play.set_shared(False)
play.connect("media-configure", play_configured)
mounts.add_factory("/play", play)

if server.attach(None) == 0:
    print("cannot listen on port " + port, file=sys.stderr, flush=True)
    sys.exit(1)
print("ready", file=sys.stderr, flush=True)
GLib.MainLoop().run()
