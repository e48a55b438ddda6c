// SPDX-License-Identifier: GPL-2.0-or-later
#include "app/version.hpp"

#include <dlfcn.h>
#include <nettle/version.h>
#include <x265.h>

#include <stdexcept>
#include <string>

#include "core/dl_symbol.hpp"
#include "frame/swscale_lib.hpp"
#include "net/io_loop.hpp"
#include "publish/avformat_lib.hpp"

namespace h265direct {

namespace {

// FFmpeg's libraries give their version as one number, major << 16 | minor << 8 | micro.
std::string ffmpegVersion(unsigned v) {
    return std::to_string(v >> 16) + "." + std::to_string((v >> 8) & 0xff) + "." +
           std::to_string(v & 0xff);
}

struct OnDemand {
    bool found = false;
    std::string text;  // "6.7.100 (libswscale.so.6)" or "not found (the loader's reason)"
};

// Opens `file` as the program would when it needs it and asks it for its version with
// `symbol` (e.g. swscale_version). Left loaded, as the program leaves it: unloading it would
// run the destructors of everything it pulled in (GnuTLS, nettle...) for nothing, and what
// their constructors allocated would show as leaked under LeakSanitizer.
OnDemand lookUp(const char* file, const char* symbol) {
    OnDemand out;
    void* handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        out.text = std::string("not found (") + (why != nullptr ? why : file) + ")";
        return out;
    }
    unsigned (*version)() = nullptr;
    std::string error;
    if (bindSymbol(handle, file, symbol, version, error)) {
        out.found = true;
        out.text = ffmpegVersion(version()) + " (" + file + ")";
    } else {
        out.text = "not found (" + error + ")";
    }
    return out;
}

}  // namespace

std::string versionDetails() {
    const OnDemand swscale = lookUp(swscaleLibraryName(), "swscale_version");
    const OnDemand avformat = lookUp(avformatLibraryName(), "avformat_version");
    std::string io;
    try {
        io = net::makeIoLoop(IoBackend::Auto)->describe();
    } catch (const std::exception& e) {
        io = std::string("none (") + e.what() + ")";
    }
    std::string text;
    text += std::string("libx265: ") + x265_version_str + "\n";
    text += "libswscale: " + swscale.text + "\n";
    text += "libavformat: " + avformat.text + "\n";
    text += "liburing: " H265D_URING_VERSION " (built against; it has no version call)\n";
    text += "nettle: " + std::to_string(nettle_version_major()) + "." +
            std::to_string(nettle_version_minor()) + "\n";
    text += "network I/O: " + io + "\n";
    text += std::string("RGB and planar 4:4:4 sources (libswscale): ") +
            (swscale.found ? "available" : "not available") + "\n";
    text += std::string("--publish (libavformat): ") +
            (avformat.found ? "available" : "not available") + "\n";
    return text;
}

}  // namespace h265direct
