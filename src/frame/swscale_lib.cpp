// SPDX-License-Identifier: GPL-2.0-or-later
#include "frame/swscale_lib.hpp"

#include <dlfcn.h>

#include <string>

#include "core/dl_symbol.hpp"
#include "core/error.hpp"

namespace h265direct {

namespace {

#define H265D_STR2(x) #x
#define H265D_STR(x) H265D_STR2(x)
// The ABI is that of the headers built against; another major version is another library.
constexpr const char* kLibrary = "libswscale.so." H265D_STR(LIBSWSCALE_VERSION_MAJOR);
constexpr const char* kPackage = "libswscale" H265D_STR(LIBSWSCALE_VERSION_MAJOR);
#undef H265D_STR
#undef H265D_STR2

struct Loaded {
    SwscaleLib lib;
    std::string error;  // empty when loaded
};

template <typename Fn>
bool bind(void* handle, const char* symbol, Fn& fn, std::string& error) {
    return bindSymbol(handle, kLibrary, symbol, fn, error);
}

Loaded load() {
    Loaded out;
    // Never closed: contexts may live until exit, and unloading saves nothing that matters.
    void* handle = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        out.error = why != nullptr ? why : kLibrary;
        return out;
    }
    SwscaleLib& l = out.lib;
    if (!bind(handle, "sws_getContext", l.getContext, out.error) ||
        !bind(handle, "sws_freeContext", l.freeContext, out.error) ||
        !bind(handle, "sws_scale", l.scale, out.error) ||
        !bind(handle, "sws_getCoefficients", l.getCoefficients, out.error) ||
        !bind(handle, "sws_setColorspaceDetails", l.setColorspaceDetails, out.error)) {
        out.lib = SwscaleLib{};
    }
    return out;
}

}  // namespace

const char* swscaleLibraryName() {
    return kLibrary;
}

const SwscaleLib& swscaleLib(const char* what) {
    static const Loaded loaded = load();
    if (!loaded.error.empty()) {
        throw StartupError(kExitFailure,
                           std::string(what) + " needs libswscale, which could not be loaded (" +
                               loaded.error + "); install it (Debian: apt-get install " + kPackage +
                               ") or use a YUV pixel format");
    }
    return loaded.lib;
}

}  // namespace h265direct
