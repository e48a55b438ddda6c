// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "h265direct/sink.hpp"

namespace h265direct {

// Raw Annex-B to a file ("-" = stdout). Writes whole access units synchronously: a file
// output never drops data, so a slow disk or reader slows the run rather than losing frames.
// Throws StartupError(kExitOutput) when the file cannot be opened.
std::unique_ptr<Sink> makeFileSink(const std::string& path);

// The library callback (the counterpart of the original script's appsink callback).
std::unique_ptr<Sink> makeCallbackSink(std::function<void(const AccessUnitPtr&)> callback);

}  // namespace h265direct
