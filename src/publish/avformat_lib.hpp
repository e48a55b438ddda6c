// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

extern "C" {
#include <libavcodec/packet.h>
#include <libavformat/avformat.h>
#include <libavutil/dict.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>
}

#include <string>

namespace h265direct {

// The entry points of libavformat (and of libavcodec and libavutil, which it loads) that the
// publish outputs use, loaded with dlopen the first time a --publish output is made: a run
// without --publish never maps the FFmpeg libraries (nor the ~100 libraries they depend on).
struct AvformatLib {
    decltype(&::avformat_network_init) networkInit = nullptr;
    decltype(&::avformat_alloc_output_context2) allocOutputContext = nullptr;
    decltype(&::avformat_free_context) freeContext = nullptr;
    decltype(&::avformat_new_stream) newStream = nullptr;
    decltype(&::avformat_write_header) writeHeader = nullptr;
    decltype(&::av_write_frame) writeFrame = nullptr;
    decltype(&::av_write_trailer) writeTrailer = nullptr;
    decltype(&::avio_open2) ioOpen = nullptr;
    decltype(&::avio_closep) ioClose = nullptr;
    decltype(&::av_packet_alloc) packetAlloc = nullptr;
    decltype(&::av_packet_free) packetFree = nullptr;
    decltype(&::av_malloc) malloc = nullptr;
    decltype(&::av_dict_set) dictSet = nullptr;
    decltype(&::av_dict_free) dictFree = nullptr;
    decltype(&::av_strerror) strerror = nullptr;
    decltype(&::av_log_set_callback) logSetCallback = nullptr;
};

// FFmpeg's own messages of the calling thread: its last error line (the reason behind a
// failed call, e.g. "method ANNOUNCE failed: 405 Method Not Allowed"), and libsrt's last
// warning (of any thread: "Incorrect passphrase"), cleared when read; secrets masked.
// Neither library prints anything itself: the outputs put the reason in their own one-line
// messages (libsrt's lines are debug lines, -vv).
std::string takeAvformatMessage();

// Loads the libraries (once; they stay loaded). Throws StartupError (kExitFailure) when they
// cannot be loaded, naming the file and the package that provides it.
const AvformatLib& avformatLib();

// The file dlopen looks for, e.g. "libavformat.so.59" (the major version built against).
const char* avformatLibraryName();

}  // namespace h265direct
