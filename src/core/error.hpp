#pragma once

#include <stdexcept>
#include <string>

#include "h265direct/config.hpp"

namespace h265direct {

// Start-up failures (opening, negotiating, configuring): a message for the user and the
// exit code the program ends with. The frame path does not throw.
class StartupError : public std::runtime_error {
public:
    StartupError(int exitCode, const std::string& message)
        : std::runtime_error(message), exitCode_(exitCode) {}
    int exitCode() const { return exitCode_; }

private:
    int exitCode_;
};

}  // namespace h265direct
