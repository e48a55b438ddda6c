// dump_pattern: writes frames of h265direct's built-in test pattern (--pattern) as raw video,
// so that the other contenders of the end-to-end comparison read exactly what h265direct
// generates in-process.
//
//   dump_pattern -s WxH [-f FOURCC] -n FRAMES > pattern.yuyv
//
// Uses the engine's own source (openSource with SourceKind::Pattern, unpaced): the bytes are
// the pattern source's frames, not a re-encoding or a re-implementation of them.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "capture/frame_source.hpp"
#include "convert/pixel_format.hpp"
#include "core/error.hpp"
#include "core/stop_signal.hpp"

namespace {

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr, "dump_pattern: %s\nusage: dump_pattern -s WxH [-f FOURCC] -n FRAMES\n",
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
            std::fprintf(stderr, "dump_pattern: write: %s\n", std::strerror(errno));
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
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        const char* v = argv[i + 1];
        if (a == "-s") {
            if (std::sscanf(v, "%dx%d", &config.width, &config.height) != 2) {
                usage("-s wants WxH");
            }
        } else if (a == "-f") {
            fourcc = v;
        } else if (a == "-n") {
            frames = std::strtol(v, nullptr, 10);
        } else {
            usage(("unknown option " + a).c_str());
        }
    }
    if (argc % 2 != 1 || frames <= 0) {
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
        StopSignal stop;
        for (long n = 0; n < frames; ++n) {
            FrameLease lease;
            Status st = source->next(lease, stop);
            if (st != Status::Ok) {
                std::fprintf(stderr, "dump_pattern: source stopped after %ld frames\n", n);
                return 1;
            }
            // The pattern source lays a frame out tightly packed in one buffer (packedLayout).
            const FrameView& view = lease.view();
            if (view.bytes != layout->frameBytes) {
                std::fprintf(stderr, "dump_pattern: frame of %zu bytes, expected %zu\n", view.bytes,
                             layout->frameBytes);
                return 1;
            }
            if (!writeAll(view.planes[0], view.bytes)) {
                return 1;
            }
        }
    } catch (const StartupError& e) {
        std::fprintf(stderr, "dump_pattern: %s\n", e.what());
        return 1;
    }
    return 0;
}
