#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/) from real streams.

Usage: tests/fuzz/make_corpus.py PATH/TO/h265direct

Streams: h265direct --pattern (the project's own encoder settings), the x265 program
(4:4:4, 4:2:2, 4:0:0, AUDs, several slices, B-frames) and ffmpeg's libx265 (8- and
10-bit). Each is
kept short (tiny pictures, a few frames) so the whole corpus stays a few hundred KB.
"""
import hashlib
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def run(cmd):
    # A sanitized h265direct may be given: libx265's own leaks must not fail it here.
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def streams(h265direct, tmp):
    out = {}
    p = os.path.join(tmp, "pattern.h265")
    run([h265direct, "--pattern", "-s", "64x64", "--frames", "4", "--keyint", "2", "-q", "-o", p])
    out["pattern"] = p
    p = os.path.join(tmp, "pattern-tune.h265")
    run([h265direct, "--pattern", "-s", "96x64", "--frames", "3", "--preset", "veryfast",
         "--tune", "psnr", "-b", "50", "-q", "-o", p])
    out["pattern-tune"] = p
    # The x265 program on a raw test picture, in the chroma formats and bit depths it has.
    for name, csp, fmt, extra in [
        ("x265-420-aud-slices", "i420", "yuv420p", ["--aud", "--slices", "2", "--bframes", "2"]),
        ("x265-444", "i444", "yuv444p", ["--repeat-headers"]),
        ("x265-422", "i422", "yuv422p", []),
        ("x265-400", "i400", "gray", []),
    ]:
        raw = os.path.join(tmp, name + ".yuv")
        run(["ffmpeg", "-y", "-f", "lavfi", "-i", "testsrc=size=48x32:rate=10", "-frames:v", "3",
             "-pix_fmt", fmt, "-f", "rawvideo", raw])
        p = os.path.join(tmp, name + ".h265")
        run(["x265", "--input", raw, "--input-res", "48x32", "--input-csp", csp, "--fps", "10",
             "--preset", "ultrafast", "--log-level", "none", "--keyint", "2"] + extra +
            ["--output", p])
        out[name] = p
    p = os.path.join(tmp, "ffmpeg.h265")
    run(["ffmpeg", "-y", "-f", "lavfi", "-i", "testsrc2=size=40x40:rate=5", "-frames:v", "3",
         "-c:v", "libx265", "-x265-params", "log-level=none:keyint=2", "-f", "hevc", p])
    out["ffmpeg"] = p
    p = os.path.join(tmp, "ffmpeg-main10.h265")
    run(["ffmpeg", "-y", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", "3",
         "-pix_fmt", "yuv420p10le", "-c:v", "libx265", "-x265-params",
         "log-level=none:keyint=2:aud=1", "-f", "hevc", p])
    out["ffmpeg-main10"] = p
    return {k: open(v, "rb").read() for k, v in out.items()}


def nal_units(data):
    """(start code size, NAL bytes) for each NAL unit of an Annex-B stream."""
    starts = []
    i = 0
    while True:
        i = data.find(b"\x00\x00\x01", i)
        if i < 0:
            break
        sc = 4 if i > 0 and data[i - 1] == 0 else 3
        starts.append((i - (sc - 3), i + 3))
        i += 3
    nals = []
    for k, (sc_at, at) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(data)
        nals.append((at - sc_at, data[at:end].rstrip(b"\x00")))
    return nals


def access_units(data):
    """Annex-B bytes of each access unit (H.265 7.4.2.4.4, base layer)."""
    aus, cur, has_vcl = [], b"", False
    for sc, nal in nal_units(data):
        t = (nal[0] >> 1) & 0x3F
        vcl = t < 32
        opens = (t == 35 and cur) or (has_vcl and (
            (vcl and len(nal) > 2 and nal[2] & 0x80) or 32 <= t <= 34 or t == 39 or
            41 <= t <= 44 or 48 <= t <= 55))
        if opens:
            aus.append(cur)
            cur, has_vcl = b"", False
        cur += b"\x00" * (sc - 1) + b"\x01" + nal
        has_vcl = has_vcl or vcl
    if cur:
        aus.append(cur)
    return aus


def write(target, content):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(content).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(content)


# Authorization headers as FFmpeg, GStreamer, live555 and Basic clients send them, and a
# few malformed ones; and RTSP sessions through authentication (first byte's top bit: the
# fuzz target configures a user, alice:wonderland, with Basic on).
AUTHORIZATION = [
    'Digest username="alice", realm="h265direct", nonce="0000018c5e2f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f", '
    'uri="rtsp://127.0.0.1:8554/", response="6629fae49393a05397450978507c4ef1", algorithm="MD5", '
    'cnonce="0a4f113b", nc=00000001, qop="auth"',
    'Digest username="alice", realm="h265direct", nonce="abc", uri="rtsp://127.0.0.1:8554/", '
    'response="670fd8c2df070c60b045671b8b24ff02"',
    'Digest username="a \\"b\\\\", realm = "h265direct" ,, algorithm=SHA-256, qop=auth, '
    'nc=00000001, cnonce="x", uri="/", nonce="n", response="00"',
    "Basic YWxpY2U6d29uZGVybGFuZA==",
    "Basic",
    'Digest username="x',
    "Digest a=b, a=c",
    "Negotiate YIIB",
]
RTSP_AUTH_SESSIONS = [
    "DESCRIBE rtsp://127.0.0.1:8554/cam RTSP/1.0\r\nCSeq: 2\r\n\r\n"
    "DESCRIBE rtsp://127.0.0.1:8554/cam RTSP/1.0\r\nCSeq: 3\r\n"
    "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n\r\n"
    "SETUP rtsp://127.0.0.1:8554/cam/trackID=0 RTSP/1.0\r\nCSeq: 4\r\n"
    "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"
    "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n\r\n"
    "PLAY rtsp://127.0.0.1:8554/cam/ RTSP/1.0\r\nCSeq: 5\r\nSession: 000000000000002a\r\n"
    "Authorization: Basic YWxpY2U6d29uZGVybGFuZA==\r\n\r\n",
    "OPTIONS rtsp://127.0.0.1:8554/cam RTSP/1.0\r\nCSeq: 1\r\n\r\n"
    "DESCRIBE rtsp://127.0.0.1:8554/cam RTSP/1.0\r\nCSeq: 2\r\n"
    'Authorization: Digest username="alice", realm="h265direct", nonce="00", '
    'uri="rtsp://127.0.0.1:8554/cam", response="00", qop=auth, nc=00000001, cnonce="c"\r\n\r\n'
    "SETUP rtsp://127.0.0.1:8554/cam/trackID=0 RTSP/1.0\r\nCSeq: 3\r\n"
    "Transport: RTP/AVP;unicast;client_port=20000-20001\r\n"
    "Authorization: Basic YWxpY2U6YnVpbGRlcg==\r\n\r\n",
]


def write_auth_seeds():
    for a in AUTHORIZATION:
        write("authorization", a.encode())
    for i, s in enumerate(RTSP_AUTH_SESSIONS):
        write("rtsp", bytes([0x80 | (7 + 4 * i)]) + s.encode())


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with tempfile.TemporaryDirectory() as tmp:
        all_streams = streams(os.path.abspath(sys.argv[1]), tmp)
    options = [
        "--pattern\n-o\nout.h265\n--duration\n10",
        "-d\n/dev/video0\n-t\n192.168.1.10:5005",
        "-d\n/dev/video0\n-l\n5005\n--framing\nannexb\n--max-peers\n8",
        "--input\n/dev/null\n--pixel-format\nYUYV\n-s\n1280x720\n-r\n30\n-o\n-",
        "--pattern\n-s\n320x240\n-r\n30000/1001\n-b\n500\n--vbv-maxrate\n500\n--vbv-bufsize\n250",
        "--pattern\n--frames\n30\n-t\n127.0.0.1:9\n--exit-on-disconnect\n--keep-encoding",
        "--pattern\n-l\n[::1]:5005\n--queue-frames\n4\n--queue-bytes\n1M\n--zerocopy\nauto",
        "--pattern\n--keyint\n15\n--preset\nveryfast\n--tune\npsnr\n--threads\n2\n-vv",
        "-d\n/dev/video1\n--list-formats",
        "--pattern\n--no-pace\n--no-convert-thread\n--stats-json\n-q\n-r\n29.97",
        "--help",
        "--version",
        "-s\n16x16x\n--bitrate=abc",
        # secrets: masked by --print-config; a passphrase out of range; a password with / ? # @
        "--pattern\n--publish\nsrt://127.0.0.1:9000?passphrase=Secret-Pass-1&streamid=a:b"
        "&pbkeylen=32\n--print-config",
        "--pattern\n--publish\nrtsp://admin:p/a?s#s@w0rd@127.0.0.1:8554/cam\n--publish\n"
        "srt://h:1?passphrase=short",
    ]
    for o in options:
        write("options", o.encode())
    write_auth_seeds()
    # redaction: a secret, then (after a NUL) text holding URLs
    for r in [b"secret", b"p/a?s#s@w0rd", b"a@b?c%2F%zz", b"Right-Passphrase-42", b"1234/x",
              b"x\x00cannot publish to srt://h:1?streamid=abc: rtsp://u:p@h/x@y 'rtsp://a@b'"]:
        write("redact", r)
    for name, data in all_streams.items():
        aus = access_units(data)
        # The assembler and start-code finders: the first access units of each stream
        # (2 leading bytes: the assembler's size-limit choice and chunking seed).
        head = b"".join(aus[:3])
        write("start_code", head[:4096])
        write("assembler", bytes([len(name) * 13 % 256, len(name) * 7 % 256]) + head[:4094])
        # The length framing: each access unit behind its 4-byte big-endian size.
        framed = b"".join(len(a).to_bytes(4, "big") + a for a in aus[:3])
        write("length_deframer", bytes([255, len(name)]) + framed[:4094])
        # The parameter sets, one NAL unit each (start code excluded).
        for sc, nal in nal_units(data):
            if 32 <= (nal[0] >> 1) & 0x3F <= 34:
                write("parameter_sets", nal)


if __name__ == "__main__":
    main()
