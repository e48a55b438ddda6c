#pragma once

#include <string>

#include "h265direct/config.hpp"

namespace h265direct {

struct AppOptions {
    EngineConfig engine;
    int verbosity = 0;  // -v count
};

// Parses the command line. Returns -1 to go on, or the exit code to end with now (0 after
// --help/--version; kExitUsage after a one-line message naming the bad option).
int parseOptions(int argc, char** argv, AppOptions& options);

}  // namespace h265direct
