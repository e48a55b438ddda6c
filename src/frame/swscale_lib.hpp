// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

extern "C" {
#include <libswscale/swscale.h>
}

namespace h265direct {

// libswscale's entry points, loaded with dlopen the first time a picture needs it (RGB and
// planar 4:4:4 sources, RGB test patterns). 4:2:0 and 4:2:2 are converted by our own loops
// (yuv_convert.hpp), so such a camera never maps libswscale and the ~20 libraries
// libavutil depends on (X11, VA-API, VDPAU, OpenCL...): 2-2.5 MB less resident memory
// and a shorter start-up, measured in docs/benchmarks.md.
struct SwscaleLib {
    decltype(&::sws_getContext) getContext = nullptr;
    decltype(&::sws_freeContext) freeContext = nullptr;
    decltype(&::sws_scale) scale = nullptr;
    decltype(&::sws_getCoefficients) getCoefficients = nullptr;
    decltype(&::sws_setColorspaceDetails) setColorspaceDetails = nullptr;
};

// Loads the library (once; it stays loaded). `what` names what needs it, for the message.
// Throws StartupError (kExitFailure) when it cannot be loaded, naming the library file and
// the package that provides it.
const SwscaleLib& swscaleLib(const char* what);

// The file dlopen looks for, e.g. "libswscale.so.6" (the major version built against).
const char* swscaleLibraryName();

}  // namespace h265direct
