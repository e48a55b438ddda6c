// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <memory>

#include "frame/frame.hpp"
#include "h265direct/config.hpp"

namespace h265direct {

// Opens the source the configuration names. Throws StartupError with a message and an
// ExitCode for anything the user can fix.
std::unique_ptr<FrameSource> openSource(const SourceConfig& config);

}  // namespace h265direct
