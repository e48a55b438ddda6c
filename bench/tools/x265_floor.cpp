// SPDX-License-Identifier: GPL-2.0-or-later
// x265_floor: the encoder alone, the floor of the end-to-end comparison (bench/e2e/compare.py).
//
//   x265_floor -s WxH -r FPS -b KBPS --keyint N [--threads N] [--prefetch] [-t HOST:PORT]
//              < frames.i420
//
// Reads tightly packed I420 frames from stdin straight into the x265 input picture, encodes
// each with libx265 set up as h265direct's encoder is (ultrafast, zerolatency, ABR, closed
// GOP, parameter sets on every keyframe, Annex-B, HEVC Main), and sends every access unit
// over TCP with a 4-byte big-endian length (one writev). Without -t it only counts bytes.
// No conversion, no parsing, no queue, no stats: whatever h265direct spends above this
// program is its own overhead. Prints one summary line on stderr at the end.
//
// --prefetch (an experiment, not the floor): a second thread reads the next frame while x265
// encodes the current one, to measure what overlapping input with encoding gains here.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <x265.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
    int width = 640;
    int height = 480;
    int fps = 30;
    int kbps = 1000;
    int keyint = 60;
    int threads = 0;
    bool prefetch = false;
    std::string connect;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "x265_floor: %s\nusage: x265_floor -s WxH -r FPS -b KBPS --keyint N "
                 "[--threads N] [--prefetch] [-t HOST:PORT] < frames.i420\n",
                 why);
    std::exit(2);
}

int toInt(const char* text) {
    char* end = nullptr;
    long v = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || v < 0 || v > 1'000'000) {
        usage("bad number");
    }
    return static_cast<int>(v);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--prefetch") {
            o.prefetch = true;
            continue;
        }
        if (i + 1 >= argc) {
            usage(("missing value after " + a).c_str());
        }
        const char* v = argv[++i];
        if (a == "-s") {
            if (std::sscanf(v, "%dx%d", &o.width, &o.height) != 2) {
                usage("-s wants WxH");
            }
        } else if (a == "-r") {
            o.fps = toInt(v);
        } else if (a == "-b") {
            o.kbps = toInt(v);
        } else if (a == "--keyint") {
            o.keyint = toInt(v);
        } else if (a == "--threads") {
            o.threads = toInt(v);
        } else if (a == "-t") {
            o.connect = v;
        } else {
            usage(("unknown option " + a).c_str());
        }
    }
    if (o.width <= 0 || o.height <= 0 || o.width % 2 != 0 || o.height % 2 != 0 || o.fps <= 0) {
        usage("bad size or rate");
    }
    return o;
}

int connectTo(const std::string& hostPort) {
    auto colon = hostPort.rfind(':');
    if (colon == std::string::npos) {
        usage("-t wants HOST:PORT");
    }
    std::string host = hostPort.substr(0, colon);
    std::string port = hostPort.substr(colon + 1);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
        std::fprintf(stderr, "x265_floor: cannot resolve %s\n", hostPort.c_str());
        std::exit(1);
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        std::fprintf(stderr, "x265_floor: connect %s: %s\n", hostPort.c_str(),
                     std::strerror(errno));
        std::exit(1);
    }
    freeaddrinfo(res);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

// Reads exactly `size` bytes; false at end of input (a trailing partial frame is dropped).
bool readFull(uint8_t* dst, size_t size) {
    size_t have = 0;
    while (have < size) {
        ssize_t n = read(0, dst + have, size - have);
        if (n == 0) {
            return false;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            std::fprintf(stderr, "x265_floor: read: %s\n", std::strerror(errno));
            return false;
        }
        have += static_cast<size_t>(n);
    }
    return true;
}

bool writeAll(int fd, std::vector<iovec>& iov) {
    size_t first = 0;
    while (first < iov.size()) {
        ssize_t n = writev(fd, iov.data() + first, static_cast<int>(iov.size() - first));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            std::fprintf(stderr, "x265_floor: send: %s\n", std::strerror(errno));
            return false;
        }
        auto left = static_cast<size_t>(n);
        while (first < iov.size() && left >= iov[first].iov_len) {
            left -= iov[first].iov_len;
            ++first;
        }
        if (first < iov.size()) {
            iov[first].iov_base = static_cast<uint8_t*>(iov[first].iov_base) + left;
            iov[first].iov_len -= left;
        }
    }
    return true;
}

void set(const x265_api* api, x265_param* p, const char* name, const std::string& value) {
    if (api->param_parse(p, name, value.c_str()) != 0) {
        std::fprintf(stderr, "x265_floor: x265 rejects %s=%s\n", name, value.c_str());
        std::exit(2);
    }
}

}  // namespace

int main(int argc, char** argv) {
    Options o = parse(argc, argv);
    // A receiver that goes away ends the run with a message, not a silent SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    const x265_api* api = x265_api_get(8);
    if (api == nullptr) {
        std::fprintf(stderr, "x265_floor: no 8-bit libx265\n");
        return 1;
    }
    x265_param* p = api->param_alloc();
    api->param_default_preset(p, "ultrafast", "zerolatency");
    p->logLevel = X265_LOG_ERROR;
    p->sourceWidth = o.width;
    p->sourceHeight = o.height;
    p->fpsNum = static_cast<uint32_t>(o.fps);
    p->fpsDenom = 1;
    p->internalCsp = X265_CSP_I420;
    p->bAnnexB = 1;
    p->bEnableAccessUnitDelimiters = 0;
    p->bRepeatHeaders = 1;
    p->bOpenGOP = 0;
    set(api, p, "keyint", std::to_string(o.keyint));
    set(api, p, "min-keyint", "1");
    set(api, p, "bitrate", std::to_string(o.kbps));
    std::string pools = std::to_string(o.threads);
    if (o.threads > 0) {
        p->numaPools = pools.c_str();
    }
    if (api->param_apply_profile(p, "main") < 0) {
        std::fprintf(stderr, "x265_floor: settings do not fit HEVC Main\n");
        return 2;
    }
    x265_encoder* enc = api->encoder_open(p);
    if (enc == nullptr) {
        std::fprintf(stderr, "x265_floor: encoder_open failed\n");
        return 2;
    }
    x265_picture* pic = api->picture_alloc();
    api->picture_init(p, pic);

    const size_t lumaBytes = static_cast<size_t>(o.width) * static_cast<size_t>(o.height);
    const size_t frameBytes = lumaBytes * 3 / 2;
    std::vector<uint8_t> buffers[2] = {std::vector<uint8_t>(frameBytes),
                                       std::vector<uint8_t>(o.prefetch ? frameBytes : 0)};
    auto usePlanes = [&](std::vector<uint8_t>& frame) {
        pic->planes[0] = frame.data();
        pic->planes[1] = frame.data() + lumaBytes;
        pic->planes[2] = frame.data() + lumaBytes + lumaBytes / 4;
    };
    usePlanes(buffers[0]);
    pic->stride[0] = o.width;
    pic->stride[1] = o.width / 2;
    pic->stride[2] = o.width / 2;

    int fd = o.connect.empty() ? -1 : connectTo(o.connect);
    std::vector<iovec> iov;
    uint64_t frames = 0, aus = 0, bytes = 0;
    bool ok = true;

    auto send = [&](x265_nal* nals, uint32_t count) {
        if (count == 0) {
            return;
        }
        ++aus;
        uint32_t size = 0;
        for (uint32_t i = 0; i < count; ++i) {
            size += nals[i].sizeBytes;
        }
        bytes += size;
        if (fd < 0 || !ok) {
            return;
        }
        uint32_t be = htonl(size);
        iov.clear();
        iov.push_back({&be, sizeof be});
        for (uint32_t i = 0; i < count; ++i) {
            iov.push_back({nals[i].payload, nals[i].sizeBytes});
        }
        ok = writeAll(fd, iov);
    };

    x265_nal* nals = nullptr;
    uint32_t count = 0;
    auto encodeOne = [&]() {
        pic->pts = static_cast<int64_t>(frames++);
        if (api->encoder_encode(enc, &nals, &count, pic, nullptr) < 0) {
            std::fprintf(stderr, "x265_floor: encode failed\n");
            ok = false;
        }
    };
    if (!o.prefetch) {
        while (ok && readFull(buffers[0].data(), frameBytes)) {
            encodeOne();
            if (ok) {
                send(nals, count);
            }
        }
    } else {
        // Buffer k is either the reader's (empty[k] released) or the encoder's (full[k]).
        std::binary_semaphore empty[2] = {std::binary_semaphore(1), std::binary_semaphore(1)};
        std::binary_semaphore full[2] = {std::binary_semaphore(0), std::binary_semaphore(0)};
        bool got[2] = {false, false};
        std::thread reader([&]() {
            for (int k = 0;; k ^= 1) {
                empty[k].acquire();
                got[k] = readFull(buffers[k].data(), frameBytes);
                full[k].release();
                if (!got[k]) {
                    return;
                }
            }
        });
        for (int k = 0;; k ^= 1) {
            full[k].acquire();
            if (!got[k]) {
                break;
            }
            usePlanes(buffers[k]);
            if (ok) {
                encodeOne();  // x265 has copied the picture when this returns
            }
            empty[k].release();
            if (ok) {
                send(nals, count);
            }
        }
        reader.join();
    }
    while (ok && api->encoder_encode(enc, &nals, &count, nullptr, nullptr) > 0) {
        send(nals, count);
    }
    std::fprintf(stderr, "x265_floor: %llu frames in, %llu access units, %llu bytes\n",
                 static_cast<unsigned long long>(frames), static_cast<unsigned long long>(aus),
                 static_cast<unsigned long long>(bytes));
    if (fd >= 0) {
        close(fd);
    }
    api->picture_free(pic);
    api->encoder_close(enc);
    api->param_free(p);
    api->cleanup();
    return ok ? 0 : 1;
}
