// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Helpers of the network tests: a real H.265 stream cut into access units, loopback sockets
// and the test's own reader of the length framing (independent of the project's code).

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/test_util.hpp"
#include "core/clock.hpp"
#include "h265direct/access_unit.hpp"
#include "h265direct/config.hpp"
#include "h265direct/sink.hpp"

namespace h265direct::test {

// Cuts an Annex-B stream into access units with a deliberately simple rule of its own: a new
// unit starts at a VPS/SPS/PPS/AUD/prefix SEI or at a slice with first_slice_segment_in_pic_flag
// once the current unit has a picture.
inline std::vector<std::shared_ptr<AccessUnit>> cutAccessUnits(const std::vector<uint8_t>& s) {
    std::vector<size_t> starts;  // offsets of start codes
    for (size_t i = 0; i + 3 <= s.size(); ++i) {
        if (s[i] == 0 && s[i + 1] == 0 && s[i + 2] == 1) {
            starts.push_back(i > 0 && s[i - 1] == 0 ? i - 1 : i);
            i += 2;
        }
    }
    std::vector<std::shared_ptr<AccessUnit>> out;
    std::shared_ptr<AccessUnit> cur;
    bool curHasVcl = false;
    bool vps = false, sps = false, pps = false;
    for (size_t k = 0; k < starts.size(); ++k) {
        const size_t begin = starts[k];
        const size_t end = k + 1 < starts.size() ? starts[k + 1] : s.size();
        size_t hdr = begin + (s[begin + 2] == 1 ? 3 : 4);
        const uint8_t type = (s[hdr] >> 1) & 0x3f;
        const bool vcl = type < 32;
        const bool opener = type == 32 || type == 33 || type == 34 || type == 35 || type == 39 ||
                            (vcl && (s[hdr + 2] & 0x80) != 0);
        if (!cur || (curHasVcl && opener)) {
            if (cur) {
                cur->hasParameterSets = vps && sps && pps;
                out.push_back(cur);
            }
            cur = std::make_shared<AccessUnit>();
            curHasVcl = false;
            vps = sps = pps = false;
        }
        cur->data.insert(cur->data.end(), s.begin() + static_cast<std::ptrdiff_t>(begin),
                         s.begin() + static_cast<std::ptrdiff_t>(end));
        if (vcl) {
            curHasVcl = true;
            if (type >= 16 && type <= 23) {
                cur->keyframe = true;
                cur->idr = type == 19 || type == 20;
            }
        }
        vps = vps || type == 32;
        sps = sps || type == 33;
        pps = pps || type == 34;
    }
    if (cur) {
        cur->hasParameterSets = vps && sps && pps;
        out.push_back(cur);
    }
    for (size_t i = 0; i < out.size(); ++i) {
        out[i]->frameNumber = i;
        out[i]->pts = static_cast<int64_t>(i);
    }
    return out;
}

// A real stream made by FFmpeg's libx265: 160x120, a keyframe (IDR with parameter sets)
// every `keyint` frames. Generated once per process and size.
inline const std::vector<std::shared_ptr<AccessUnit>>& testStream(
    int frames = 60, int keyint = 15, const std::string& size = "160x120") {
    static std::vector<std::pair<std::string, std::vector<std::shared_ptr<AccessUnit>>>> cache;
    const std::string key = std::to_string(frames) + "/" + std::to_string(keyint) + "/" + size;
    for (auto& [k, v] : cache) {
        if (k == key) {
            return v;
        }
    }
    TempDir dir;
    const std::string path = dir.file("s.h265");
    const std::string cmd =
        "ffmpeg -nostdin -loglevel error -f lavfi -i testsrc2=size=" + size +
        ":rate=30 -frames:v " + std::to_string(frames) +
        " -pix_fmt yuv420p -c:v libx265 -preset ultrafast -tune zerolatency -x265-params "
        "log-level=none:keyint=" +
        std::to_string(keyint) + ":min-keyint=" + std::to_string(keyint) +
        ":repeat-headers=1:bframes=0:scenecut=0:open-gop=0 -f hevc -y " + path;
    const ProcessResult r = runShell(cmd, 60);
    if (r.exitCode != 0) {
        throw std::runtime_error("ffmpeg failed: " + r.err);
    }
    cache.emplace_back(key, cutAccessUnits(readFile(path)));
    return cache.back().second;
}

// A fresh copy of unit i, stamped with a capture time of now (sinks measure latency from it).
inline AccessUnitPtr stamped(const std::shared_ptr<AccessUnit>& au, uint64_t frameNumber) {
    auto copy = std::make_shared<AccessUnit>(*au);
    copy->captureTimeNs = monotonicNs();
    copy->frameNumber = frameNumber;
    return copy;
}

inline std::vector<uint8_t> concat(const std::vector<std::shared_ptr<AccessUnit>>& aus,
                                   size_t from = 0, size_t to = SIZE_MAX) {
    std::vector<uint8_t> out;
    for (size_t i = from; i < std::min(to, aus.size()); ++i) {
        out.insert(out.end(), aus[i]->data.begin(), aus[i]->data.end());
    }
    return out;
}

// A listening loopback socket on a free port.
struct TestListener {
    int fd = -1;
    uint16_t port = 0;
    // Listens on loopback, on `wantPort` (0: any free port).
    explicit TestListener(bool v6 = false, uint16_t wantPort = 0) {
        fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_storage ss{};
        socklen_t len = 0;
        if (v6) {
            auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
            a->sin6_family = AF_INET6;
            a->sin6_addr = in6addr_loopback;
            a->sin6_port = htons(wantPort);
            len = sizeof *a;
        } else {
            auto* a = reinterpret_cast<sockaddr_in*>(&ss);
            a->sin_family = AF_INET;
            a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            a->sin_port = htons(wantPort);
            len = sizeof *a;
        }
        if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 64) != 0) {
            throw std::runtime_error("test listener failed");
        }
        len = sizeof ss;
        getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
        port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                        : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    }
    ~TestListener() { close(); }
    void close() {
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }
    // Waits for one connection; -1 on timeout.
    int accept(double timeoutSec = 10) const {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(timeoutSec * 1000)) != 1) {
            return -1;
        }
        return ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    }
};

// A port nobody listens on, reserved for the rest of the test process: a socket bound to it
// (SO_REUSEADDR, never listening, close-on-exec) stays open, so the kernel hands the port to
// no other bind(0) or outgoing connection, even from tests running in parallel, while a
// server given the port (the programs, GStreamer and FFmpeg all set SO_REUSEADDR) can still
// bind and listen on it. A connection to it is refused until then.
inline uint16_t freePort() {
    static std::mutex lock;
    static std::vector<int> reservations;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    socklen_t len = sizeof a;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        throw std::runtime_error("cannot reserve a port");
    }
    std::lock_guard<std::mutex> g(lock);
    reservations.push_back(fd);
    return ntohs(a.sin_port);
}

inline int connectTo(uint16_t port, int rcvbuf = 0) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rcvbuf > 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Reads until `want` bytes arrived, EOF, or nothing came for idleSec.
inline std::vector<uint8_t> readSome(int fd, size_t want, double idleSec = 5) {
    std::vector<uint8_t> out;
    uint8_t buf[65536];
    while (out.size() < want) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(idleSec * 1000)) != 1) {
            break;
        }
        const ssize_t n = ::read(fd, buf, std::min(sizeof buf, want - out.size()));
        if (n <= 0) {
            break;
        }
        out.insert(out.end(), buf, buf + n);
    }
    return out;
}

// The test's own reader of the length framing: 4-byte big-endian size, then the payload.
// Returns false when the bytes do not parse as whole frames.
inline bool parseLengthFraming(const std::vector<uint8_t>& bytes,
                               std::vector<std::vector<uint8_t>>& frames) {
    frames.clear();
    size_t i = 0;
    while (i < bytes.size()) {
        if (bytes.size() - i < 4) {
            return false;
        }
        const uint32_t n = (uint32_t{bytes[i]} << 24) | (uint32_t{bytes[i + 1]} << 16) |
                           (uint32_t{bytes[i + 2]} << 8) | bytes[i + 3];
        i += 4;
        if (n == 0 || bytes.size() - i < n) {
            return false;
        }
        frames.emplace_back(bytes.begin() + static_cast<std::ptrdiff_t>(i),
                            bytes.begin() + static_cast<std::ptrdiff_t>(i + n));
        i += n;
    }
    return true;
}

// Bytes of the whole frames at the start of a length-framed stream (a cut connection ends
// mid-frame).
inline size_t wholeFramesLength(const std::vector<uint8_t>& bytes) {
    size_t i = 0;
    while (i + 4 <= bytes.size()) {
        const size_t n = (size_t{bytes[i]} << 24) | (size_t{bytes[i + 1]} << 16) |
                         (size_t{bytes[i + 2]} << 8) | bytes[i + 3];
        if (i + 4 + n > bytes.size()) {
            break;
        }
        i += 4 + n;
    }
    return i;
}

// Polls a condition (test-side synchronisation only, never a measured figure).
inline bool waitFor(const std::function<bool()>& done, double timeoutSec = 10) {
    const int64_t end = monotonicNs() + static_cast<int64_t>(timeoutSec * 1e9);
    while (!done()) {
        if (monotonicNs() > end) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

// ---------------------------------------------------------------- the I/O paths

// Every network test runs once per I/O path: io_uring with what this kernel has, io_uring as
// an older kernel offers it (no multishot accept, no zero-copy send, no single issuer or
// deferred task run: masked by H265DIRECT_IO_URING_MASK), and epoll. ctest labels the io_uring
// runs `uring` (a run where io_uring is missing, such as user-mode qemu, leaves them out).
struct IoPath {
    const char* name;  // the test name's suffix
    const char* io;    // the --io value
    const char* mask;  // H265DIRECT_IO_URING_MASK, or null
    IoBackend backend;
};

inline const IoPath kIoPaths[] = {
    {"uring", "uring", nullptr, IoBackend::Uring},
    {"uring_old", "uring", "multishot-accept,send-zc,single-issuer,defer-taskrun,coop-taskrun",
     IoBackend::Uring},
    {"epoll", "epoll", nullptr, IoBackend::Epoll},
};

// Test names show the path's name, not its bytes.
inline void PrintTo(const IoPath& path, std::ostream* os) {
    *os << path.name;
}

// The path of the running test (set by NetIoTest).
inline const IoPath*& currentIoPath() {
    static const IoPath* path = &kIoPaths[0];
    return path;
}

// A NetConfig for the running test's I/O path.
inline NetConfig ioConfig() {
    NetConfig c;
    c.io = currentIoPath()->backend;
    return c;
}

class NetIoTest : public ::testing::TestWithParam<IoPath> {
protected:
    void SetUp() override {
        currentIoPath() = &GetParam();
        // The programs the test starts inherit the mask too.
        if (GetParam().mask != nullptr) {
            ::setenv("H265DIRECT_IO_URING_MASK", GetParam().mask, 1);
        } else {
            ::unsetenv("H265DIRECT_IO_URING_MASK");
        }
    }
    void TearDown() override { ::unsetenv("H265DIRECT_IO_URING_MASK"); }
    static bool zeroCopyExpected() { return std::string(currentIoPath()->name) == "uring"; }
};

#define H265D_NET_IO_SUITE(Suite)                                                                \
    INSTANTIATE_TEST_SUITE_P(Io, Suite, ::testing::ValuesIn(::h265direct::test::kIoPaths),       \
                             [](const ::testing::TestParamInfo<::h265direct::test::IoPath>& i) { \
                                 return std::string(i.param.name);                               \
                             })

}  // namespace h265direct::test

namespace h265direct::test {

// Plays the engine: hands a pre-encoded stream to a sink, over and over, one unit per period.
// A keyframe request makes it jump to the start of the next group of pictures, as a forced
// IDR would.
class Feeder {
public:
    Feeder(Sink& sink, const std::vector<std::shared_ptr<AccessUnit>>& aus, int periodUs)
        : sink_(sink), aus_(aus), periodUs_(periodUs) {}
    ~Feeder() { stop(); }
    void requestKeyframe() { keyframe_.store(true); }
    // Before each unit, waits until ready() holds (call before start()).
    void gate(std::function<bool()> ready) { ready_ = std::move(ready); }
    void start(size_t maxUnits) {
        thread_ = std::thread([this, maxUnits] {
            size_t i = 0;
            for (uint64_t n = 0; n < maxUnits && !stop_.load(); ++n) {
                while (ready_ && !ready_() && !stop_.load()) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                }
                if (keyframe_.exchange(false)) {
                    do {
                        i = (i + 1) % aus_.size();
                    } while (!aus_[i]->keyframe);
                    ++jumps_;
                }
                sink_.consume(stamped(aus_[i], n));
                {
                    std::lock_guard lock(mutex_);
                    sent_.push_back(i);
                }
                i = (i + 1) % aus_.size();
                if (periodUs_ > 0) {
                    std::this_thread::sleep_for(std::chrono::microseconds(periodUs_));
                }
            }
            done_.store(true);
        });
    }
    void stop() {
        stop_.store(true);
        if (thread_.joinable()) {
            thread_.join();
        }
    }
    bool done() const { return done_.load(); }
    // Indexes into the stream, in the order they were handed over.
    std::vector<size_t> sent() const {
        std::lock_guard lock(mutex_);
        return sent_;
    }
    int jumps() const { return jumps_.load(); }

private:
    Sink& sink_;
    const std::vector<std::shared_ptr<AccessUnit>>& aus_;
    int periodUs_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> done_{false};
    std::atomic<bool> keyframe_{false};
    std::atomic<int> jumps_{0};
    std::function<bool()> ready_;
    mutable std::mutex mutex_;
    std::vector<size_t> sent_;
};

// Whether every frame is one of the stream's units (by bytes), and the first one a keyframe
// with parameter sets. Returns the stream indexes of the frames in `where`.
inline bool framesAreStreamUnits(const std::vector<std::vector<uint8_t>>& frames,
                                 const std::vector<std::shared_ptr<AccessUnit>>& aus,
                                 std::vector<size_t>* where = nullptr) {
    if (where) {
        where->clear();
    }
    for (size_t f = 0; f < frames.size(); ++f) {
        bool found = false;
        for (size_t i = 0; i < aus.size() && !found; ++i) {
            if (aus[i]->data == frames[f]) {
                found = true;
                if (f == 0 && !(aus[i]->keyframe && aus[i]->hasParameterSets)) {
                    return false;
                }
                if (where) {
                    where->push_back(i);
                }
            }
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

// Decodes an Annex-B file with FFmpeg; returns the number of frames, -1 on any decode error.
inline int decodedFrames(const std::string& path) {
    const ProcessResult r = runShell(
        "ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames "
        "-of csv=p=0 -f hevc " +
            path,
        60);
    if (r.exitCode != 0 || !r.err.empty()) {
        return -1;
    }
    return std::atoi(r.out.c_str());
}

}  // namespace h265direct::test
