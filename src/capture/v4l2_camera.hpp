// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "frame/frame.hpp"
#include "h265direct/config.hpp"

namespace h265direct {

// A V4L2 camera (config.path, e.g. /dev/video0) through libv4l2: negotiates the format
// (config.fourcc / width / height / fps), streams with mmap buffers, survives the device
// going away and coming back. Throws StartupError (see ExitCode) for what the user can fix.
std::unique_ptr<FrameSource> openV4l2Camera(const SourceConfig& config);

// --list-formats: prints what the device offers (formats, sizes, rates, which ones
// h265direct uses) to `out`. With `request`, also says what h265direct would choose for it.
// Returns an ExitCode; failures are printed on stderr.
int listCameraFormats(const std::string& device, FILE* out, const SourceConfig* request = nullptr);

}  // namespace h265direct
