#pragma once

#include <memory>

#include "capture/frame_source.hpp"
#include "h265direct/config.hpp"

namespace h265direct {

// The V4L2 camera source (-d DEVICE). Throws StartupError with the matching ExitCode for
// what the user can fix (no such device, not a capture device, busy, format refused).
std::unique_ptr<FrameSource> openV4l2Camera(const SourceConfig& config);

}  // namespace h265direct
