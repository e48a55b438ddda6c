// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <memory>

#include "frame/frame.hpp"
#include "h265direct/config.hpp"

namespace h265direct {

// The built-in moving test pattern (--pattern) in config.fourcc (YUYV when 0): scrolling
// colour bars over a moving luminance ramp, a high-detail block (zone plate and noise)
// that travels and scrolls, and the frame number in big digits in a moving box. Frames
// are copied from textures made once, so one costs little more than a memcpy.
std::unique_ptr<FrameSource> openPatternSource(const SourceConfig& config);

}  // namespace h265direct
