// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include "app/cmdline.hpp"
#include "h265direct/config.hpp"

namespace h265direct {

// The TCP output options (-t, -l, --framing, queues, reconnect, zero-copy ...), in their own
// group of --help. Syntax and ranges are checked while parsing; host names are resolved when
// the outputs start (makeNetworkSinks), which reports an unresolvable name.
void addNetOptions(cli::Parser& parser, NetConfig& config);

}  // namespace h265direct
