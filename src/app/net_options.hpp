#pragma once

#include "h265direct/config.hpp"

namespace CLI {
class App;
}

namespace h265direct {

// The TCP output options (-t, -l, --framing, queues, reconnect, zero-copy ...), in their own
// group of --help. Syntax and ranges are checked while parsing; host names are resolved when
// the outputs start (makeNetworkSinks), which reports an unresolvable name.
void addNetOptions(CLI::App& app, NetConfig& config);

}  // namespace h265direct
