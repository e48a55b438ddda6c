// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <memory>

#include "frame/frame.hpp"
#include "h265direct/config.hpp"

namespace h265direct {

// Raw video frames from a file (--input FILE, "-" for stdin) of config.fourcc at
// config.width x config.height, tightly packed one after the other (what
// `ffmpeg -f rawvideo` writes). With config.loop it starts again at the end; a trailing
// partial frame is reported and skipped.
std::unique_ptr<FrameSource> openFileSource(const SourceConfig& config);

}  // namespace h265direct
