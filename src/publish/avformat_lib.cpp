// SPDX-License-Identifier: GPL-2.0-or-later
#include "publish/avformat_lib.hpp"

#include <dlfcn.h>
#include <link.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include "core/dl_symbol.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/text.hpp"

namespace h265direct {

namespace {

#define H265D_STR2(x) #x
#define H265D_STR(x) H265D_STR2(x)
// The ABI is that of the headers built against; another major version is another library.
constexpr const char* kFormat = "libavformat.so." H265D_STR(LIBAVFORMAT_VERSION_MAJOR);
constexpr const char* kCodec = "libavcodec.so." H265D_STR(LIBAVCODEC_VERSION_MAJOR);
constexpr const char* kUtil = "libavutil.so." H265D_STR(LIBAVUTIL_VERSION_MAJOR);
constexpr const char* kPackage = "libavformat" H265D_STR(LIBAVFORMAT_VERSION_MAJOR);
#undef H265D_STR
#undef H265D_STR2

struct Loaded {
    AvformatLib lib;
    std::string error;  // empty when loaded
};

thread_local std::string lastMessage;
constexpr size_t kMessageMax = 512;  // of a library's message, escaped, in a log line

void keepMessage(void* /*object*/, int level, const char* format, va_list args) {
    if (level > AV_LOG_ERROR) {
        return;
    }
    char line[512];
    va_list copy;
    va_copy(copy, args);
    const int n = std::vsnprintf(line, sizeof line, format, copy);
    va_end(copy);
    if (n <= 0) {
        return;
    }
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.pop_back();
    }
    if (!text.empty()) {
        // libsrt's "Connection to URL failed" and the like: the URL and any secret of a
        // running session masked before the text goes anywhere, and the bytes a server sent
        // (a reason phrase) escaped.
        lastMessage = logSafe(redactText(text), kMessageMax);
    }
}

// libsrt logs on its own threads, straight to stderr: libavformat (5.1) sets neither its log
// handler nor its level. Its warnings ("Incorrect passphrase") come here instead, redacted:
// the newest is kept for the next failure's one-line report, every one is a debug line.
constexpr int kSrtWarning = 4;  // libsrt's levels are syslog's: LOG_WARNING
std::mutex srtMutex;
std::string srtLast;

void keepSrtMessage(void* /*opaque*/, int level, const char* /*file*/, int /*line*/,
                    const char* /*area*/, const char* message) {
    if (message == nullptr) {
        return;
    }
    // "[: ]area: function: text" with the flags set in routeSrtLog.
    std::string text = redactText(message + std::strspn(message, ": "));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
        text.pop_back();
    }
    text = logSafe(text, kMessageMax);
    LOG_DEBUG("srt", "%s", text.c_str());
    if (level <= kSrtWarning && !text.empty()) {
        std::lock_guard lock(srtMutex);
        srtLast = std::move(text);
    }
}

// libsrt as libavformat loaded it (a library of the process whose path names it), with its
// log sent to keepSrtMessage. Nothing to do when this libavformat was built without it.
void routeSrtLog() {
    std::string path;
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t /*size*/, void* out) {
            if (info->dlpi_name != nullptr && std::strstr(info->dlpi_name, "/libsrt") != nullptr) {
                *static_cast<std::string*>(out) = info->dlpi_name;
                return 1;
            }
            return 0;
        },
        &path);
    void* srt = path.empty() ? nullptr : dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (srt == nullptr) {
        return;
    }
    using Handler = void (*)(void*, int, const char*, int, const char*, const char*);
    using SetHandler = void (*)(void*, Handler);
    using SetFlags = void (*)(int);
    SetHandler setHandler = nullptr;
    SetFlags setFlags = nullptr;
    std::string error;
    if (bindSymbol(srt, path.c_str(), "srt_setloghandler", setHandler, error) &&
        bindSymbol(srt, path.c_str(), "srt_setlogflags", setFlags, error)) {
        // Without its time, thread name, severity and line end (SRT_LOGF_DISABLE_*).
        setFlags(1 | 2 | 4 | 8);
        setHandler(nullptr, keepSrtMessage);
    }
    // The handle stays open, as libavformat's do.
}

void* open(const char* library, std::string& error) {
    // Never closed: the outputs may live until exit, and unloading saves nothing that matters.
    void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = dlerror();
        error = why != nullptr ? why : library;
    }
    return handle;
}

Loaded load() {
    Loaded out;
    std::string& e = out.error;
    // libavformat first: it brings the other two in, which are then found, not loaded again.
    void* format = open(kFormat, e);
    void* codec = format != nullptr ? open(kCodec, e) : nullptr;
    void* util = codec != nullptr ? open(kUtil, e) : nullptr;
    if (util == nullptr) {
        return out;
    }
    AvformatLib& l = out.lib;
    if (!bindSymbol(format, kFormat, "avformat_network_init", l.networkInit, e) ||
        !bindSymbol(format, kFormat, "avformat_alloc_output_context2", l.allocOutputContext, e) ||
        !bindSymbol(format, kFormat, "avformat_free_context", l.freeContext, e) ||
        !bindSymbol(format, kFormat, "avformat_new_stream", l.newStream, e) ||
        !bindSymbol(format, kFormat, "avformat_write_header", l.writeHeader, e) ||
        !bindSymbol(format, kFormat, "av_write_frame", l.writeFrame, e) ||
        !bindSymbol(format, kFormat, "av_write_trailer", l.writeTrailer, e) ||
        !bindSymbol(format, kFormat, "avio_open2", l.ioOpen, e) ||
        !bindSymbol(format, kFormat, "avio_closep", l.ioClose, e) ||
        !bindSymbol(codec, kCodec, "av_packet_alloc", l.packetAlloc, e) ||
        !bindSymbol(codec, kCodec, "av_packet_free", l.packetFree, e) ||
        !bindSymbol(util, kUtil, "av_malloc", l.malloc, e) ||
        !bindSymbol(util, kUtil, "av_dict_set", l.dictSet, e) ||
        !bindSymbol(util, kUtil, "av_dict_free", l.dictFree, e) ||
        !bindSymbol(util, kUtil, "av_strerror", l.strerror, e) ||
        !bindSymbol(util, kUtil, "av_log_set_callback", l.logSetCallback, e)) {
        out.lib = AvformatLib{};
        return out;
    }
    l.logSetCallback(keepMessage);
    routeSrtLog();
    l.networkInit();
    return out;
}

}  // namespace

std::string takeAvformatMessage() {
    std::string m = std::move(lastMessage);
    lastMessage.clear();
    std::lock_guard lock(srtMutex);
    if (!srtLast.empty()) {
        m += (m.empty() ? "libsrt: " : "; libsrt: ") + srtLast;
        srtLast.clear();
    }
    return m;
}

const char* avformatLibraryName() {
    return kFormat;
}

const AvformatLib& avformatLib() {
    static const Loaded loaded = load();
    if (!loaded.error.empty()) {
        throw StartupError(kExitFailure,
                           "--publish needs libavformat, which could not be loaded (" +
                               loaded.error + "); install it (Debian: apt-get install " + kPackage +
                               ")");
    }
    return loaded.lib;
}

}  // namespace h265direct
