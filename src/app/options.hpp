// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "h265direct/config.hpp"

namespace h265direct {

struct AppOptions {
    EngineConfig engine;
    int verbosity = 0;  // -v count
};

// Parses the command line. Returns -1 to go on, or the exit code to end with now (0 after
// --help/--version; kExitUsage after a one-line message naming the bad option).
// versionDetails: the lines --version prints after the program's name and version.
int parseOptions(int argc, char** argv, AppOptions& options,
                 std::function<std::string()> versionDetails = {});

// The same options from a list (no program name first), printing nothing: throws
// cli::UsageError with the message the program prints after "h265direct: error: "; returns
// false when --help, --version or --print-config was given (nothing to run).
bool parseOptionList(const std::vector<std::string>& args, AppOptions& options);

// What --help prints.
std::string optionsHelp();

}  // namespace h265direct
