// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>

namespace h265direct {

// What --version prints after its first line: the versions of the libraries in use (libx265,
// nettle and liburing linked; libswscale and libavformat, which are loaded on demand, looked
// up now: their version, or "not found" and why) and which optional parts are available.
std::string versionDetails();

}  // namespace h265direct
