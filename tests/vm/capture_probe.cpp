// SPDX-License-Identifier: GPL-2.0-or-later
// Test helper for the VM suite: captures frames through h265direct's camera source (the same
// code the program uses) and writes them tightly packed, so that the host can compare them
// byte for byte with what v4l2-ctl captured from the same driver. Also exercises the
// newest-frame policy (--hold-ms: keep each frame that long, like a slow encoder) and
// device loss. Prints one line per frame (with its sequence number and capture time, for
// rates) and a summary line.
//
//   capture_probe DEVICE FOURCC WxH FPS FRAMES OUT [--hold-ms N] [--buffers N]
//                 [--exit-on-device-loss] [--timeout-ms N] [--max-tries N]

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "capture/v4l2_camera.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/stop_signal.hpp"
#include "frame/pixel_format.hpp"

using namespace h265direct;

namespace {

int usage() {
    std::fprintf(stderr,
                 "usage: capture_probe DEVICE FOURCC|auto WxH FPS FRAMES OUT [--hold-ms N] "
                 "[--buffers N] [--exit-on-device-loss] [--timeout-ms N] [--max-tries N]\n");
    return kExitUsage;
}

void sleepMs(int ms) {
    const timespec ts = toTimespec(int64_t{ms} * 1'000'000);
    nanosleep(&ts, nullptr);
}

int64_t statValue(const StatsReport& r, const char* key) {
    const StatsReport::Field* f = r.find(key);
    return f != nullptr ? std::get<int64_t>(f->value) : -1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 7) {
        return usage();
    }
    SourceConfig cfg;
    cfg.kind = SourceKind::Camera;
    cfg.path = argv[1];
    if (std::strcmp(argv[2], "auto") != 0) {
        const auto fourcc = parseFourcc(argv[2]);
        if (!fourcc) {
            return usage();
        }
        cfg.fourcc = *fourcc;
    }
    if (std::sscanf(argv[3], "%dx%d", &cfg.width, &cfg.height) != 2) {
        return usage();
    }
    cfg.fpsNum = std::atoi(argv[4]);
    cfg.fpsDen = 1;
    const long frames = std::atol(argv[5]);
    const std::string outPath = argv[6];
    int holdMs = 0;
    int maxTries = 0;
    for (int i = 7; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--hold-ms" && i + 1 < argc) {
            holdMs = std::atoi(argv[++i]);
        } else if (a == "--buffers" && i + 1 < argc) {
            cfg.camera.buffers = static_cast<unsigned>(std::atoi(argv[++i]));
        } else if (a == "--timeout-ms" && i + 1 < argc) {
            cfg.camera.frameTimeoutMs = std::atoi(argv[++i]);
        } else if (a == "--max-tries" && i + 1 < argc) {
            maxTries = std::atoi(argv[++i]);
        } else if (a == "--exit-on-device-loss") {
            cfg.camera.exitOnDeviceLoss = true;
        } else {
            return usage();
        }
    }

    std::unique_ptr<FrameSource> cam;
    try {
        cam = openV4l2Camera(cfg);
    } catch (const StartupError& e) {
        std::fprintf(stderr, "capture_probe: %s\n", e.what());
        return e.exitCode();
    }
    const FrameFormat fmt = cam->format();
    const auto tight = packedLayout(fmt.fourcc, fmt.width, fmt.height);
    const PixelFormatInfo* info = findPixelFormat(fmt.fourcc);
    if (!tight || info == nullptr) {
        std::fprintf(stderr, "capture_probe: no layout for the format\n");
        return kExitFailure;
    }
    std::printf("format %s %dx%d %d/%d\n", fourccToString(fmt.fourcc).c_str(), fmt.width,
                fmt.height, fmt.fpsNum, fmt.fpsDen);
    FILE* out = std::fopen(outPath.c_str(), "wb");
    if (out == nullptr) {
        std::perror(outPath.c_str());
        return kExitOutput;
    }

    StopSignal stop;
    StatsReport total;
    int64_t skipped = 0, drops = 0, reconnects = 0;
    long got = 0;
    int tries = 0;
    int rc = kExitOk;
    while (got < frames) {
        FrameLease lease;
        const Status s = cam->next(lease, stop);
        if (s == Status::Again) {
            std::printf("again\n");
            if (maxTries > 0 && ++tries >= maxTries) {
                rc = kExitFailure;
                break;
            }
            continue;
        }
        if (s == Status::DeviceLost) {
            std::printf("device-lost\n");
            rc = kExitDeviceLost;
            break;
        }
        if (s != Status::Ok) {
            std::printf("status %s\n", toString(s));
            rc = kExitFailure;
            break;
        }
        const FrameView& v = lease.view();
        const int64_t ageUs = (monotonicNs() - v.captureNs) / 1000;
        for (int p = 0; p < info->planes; ++p) {
            const int rows =
                p == 0 ? fmt.height
                       : (fmt.height + (1 << info->yChromaShift) - 1) >> info->yChromaShift;
            const size_t rowBytes = static_cast<size_t>(tight->strides[static_cast<size_t>(p)]);
            for (int y = 0; y < rows; ++y) {
                std::fwrite(v.planes[static_cast<size_t>(p)] +
                                static_cast<size_t>(y) *
                                    static_cast<size_t>(v.strides[static_cast<size_t>(p)]),
                            1, rowBytes, out);
            }
        }
        // What the camera left out since the frame before this one: the frames it skipped
        // for a newer one, and those the driver dropped.
        StatsReport r;
        cam->collectStats(r);
        const int64_t skippedNow = statValue(r, "skipped");
        const int64_t dropsNow = statValue(r, "driver_drops");
        skipped += skippedNow;
        drops += dropsNow;
        reconnects += statValue(r, "reconnects");
        std::printf(
            "frame %ld seq %" PRIu64 " age_us %" PRId64 " discontinuity %d capture_ns %" PRId64
            " skipped %" PRId64 " driver_drops %" PRId64 "\n",
            got, v.sequence, ageUs, v.discontinuity ? 1 : 0, v.captureNs, skippedNow, dropsNow);
        std::fflush(stdout);
        ++got;
        if (holdMs > 0) {
            sleepMs(holdMs);
        }
        lease.release();
    }
    std::fclose(out);
    std::printf("summary frames %ld skipped %" PRId64 " driver_drops %" PRId64
                " reconnects %" PRId64 "\n",
                got, skipped, drops, reconnects);
    return rc;
}
