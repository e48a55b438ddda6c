// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "h265direct/config.hpp"
#include "h265direct/sink.hpp"

namespace h265direct {

// The TCP outputs the configuration asks for: a TCP client for -t, a TCP server for -l (none,
// one or both; the --publish outputs are publish::makePublishSinks'). requestKeyframe is called
// from the network threads (it must be thread-safe) when a receiver needs a keyframe to start or
// to resume after drops; the calls are rate-limited. Throws StartupError: kExitUsage for a bad
// -t/-l value (no port, port 0 or above 65535, a name that does not resolve), kExitNetwork when
// listening fails (port in use).
std::vector<std::unique_ptr<Sink>> makeNetworkSinks(const NetConfig& config,
                                                    std::function<void()> requestKeyframe);

}  // namespace h265direct
