# SPDX-License-Identifier: GPL-2.0-or-later
"""h265direct: camera (V4L2), test pattern or raw file -> H.265 (libx265, lowest latency),
as Python objects. See help(h265direct.Engine) and docs/python.md.

    import h265direct
    engine = h265direct.Engine(pattern=True, size="640x480", fps=30, frames=60)
    for au in engine:
        sock.sendall(len(au).to_bytes(4, "big") + au.data)
"""

from ._h265direct import AccessUnit, Engine, Error, Nal, OptionError, __version__

__all__ = ["AccessUnit", "Engine", "Error", "Nal", "OptionError", "__version__"]
