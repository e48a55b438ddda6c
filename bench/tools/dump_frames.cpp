// SPDX-License-Identifier: GPL-2.0-or-later
// dump_frames: writes raw frames as h265direct's engine sees them, for the end-to-end
// comparison (bench/e2e/compare.py):
//
//   dump_frames -s WxH -n FRAMES [--input FILE] [-f FOURCC] [--i420] > frames.raw
//
// Without --input: frames of the built-in test pattern (--pattern), in FOURCC (YUYV by
// default), so that the other contenders read exactly what h265direct generates in-process.
// With --input: the raw FOURCC frames of FILE. --i420: each frame converted to I420 by the
// engine's own Converter, so that the encoder-alone floor encodes the very pictures
// h265direct hands to x265 (another converter may round chroma differently).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "capture/frame_source.hpp"
#include "convert/converter.hpp"
#include "core/error.hpp"
#include "core/stop_signal.hpp"
#include "frame/pixel_format.hpp"

namespace {

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "dump_frames: %s\nusage: dump_frames -s WxH -n FRAMES [--input FILE] "
                 "[-f FOURCC] [--i420]\n",
                 why);
    std::exit(2);
}

bool writeAll(const uint8_t* data, size_t size) {
    while (size > 0) {
        ssize_t n = write(1, data, size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            std::fprintf(stderr, "dump_frames: write: %s\n", std::strerror(errno));
            return false;
        }
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace h265direct;
    SourceConfig config;
    config.kind = SourceKind::Pattern;
    config.pace = false;
    std::string fourcc = "YUYV";
    long frames = 0;
    bool i420 = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--i420") {
            i420 = true;
            continue;
        }
        if (i + 1 >= argc) {
            usage(("missing value after " + a).c_str());
        }
        const char* v = argv[++i];
        if (a == "-s") {
            if (std::sscanf(v, "%dx%d", &config.width, &config.height) != 2) {
                usage("-s wants WxH");
            }
        } else if (a == "-f") {
            fourcc = v;
        } else if (a == "-n") {
            frames = std::strtol(v, nullptr, 10);
        } else if (a == "--input") {
            config.kind = SourceKind::File;
            config.path = v;
        } else {
            usage(("unknown option " + a).c_str());
        }
    }
    if (frames <= 0) {
        usage("-n FRAMES is required");
    }
    auto parsed = parseFourcc(fourcc);
    if (!parsed) {
        usage(("unknown pixel format " + fourcc).c_str());
    }
    config.fourcc = *parsed;
    auto layout = packedLayout(config.fourcc, config.width, config.height);
    if (!layout) {
        usage("this format cannot have that size");
    }
    try {
        auto source = openSource(config);
        std::unique_ptr<Converter> converter;
        std::vector<uint8_t> picture;
        I420Planes planes;
        if (i420) {
            converter = std::make_unique<Converter>(source->format());
            const size_t luma = static_cast<size_t>(config.width) * config.height;
            picture.resize(luma * 3 / 2);
            planes =
                I420Planes{picture.data(), picture.data() + luma, picture.data() + luma + luma / 4,
                           config.width,   config.width / 2,      config.width / 2};
        }
        StopSignal stop;
        for (long n = 0; n < frames; ++n) {
            FrameLease lease;
            Status st = source->next(lease, stop);
            if (st != Status::Ok) {
                std::fprintf(stderr, "dump_frames: source stopped after %ld frames\n", n);
                return 1;
            }
            // Pattern and file sources lay a frame out tightly packed in one buffer.
            const FrameView& view = lease.view();
            if (view.bytes != layout->frameBytes) {
                std::fprintf(stderr, "dump_frames: frame of %zu bytes, expected %zu\n", view.bytes,
                             layout->frameBytes);
                return 1;
            }
            if (converter) {
                if (converter->passThrough()) {
                    if (!writeAll(view.planes[0], view.bytes)) {
                        return 1;
                    }
                    continue;
                }
                if (converter->convert(view, planes) != Status::Ok ||
                    !writeAll(picture.data(), picture.size())) {
                    return 1;
                }
            } else if (!writeAll(view.planes[0], view.bytes)) {
                return 1;
            }
        }
    } catch (const StartupError& e) {
        std::fprintf(stderr, "dump_frames: %s\n", e.what());
        return 1;
    }
    return 0;
}
