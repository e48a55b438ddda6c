// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include "app/cmdline.hpp"
#include "h265direct/config.hpp"

namespace h265direct {

// The camera's own options (--buffers, --exit-on-device-loss, --frame-timeout,
// --list-formats), filling config.camera. -d, -s, -r and --pixel-format are general source
// options defined with the rest of the command line.
void addCameraOptions(cli::Parser& parser, SourceConfig& config);

}  // namespace h265direct
