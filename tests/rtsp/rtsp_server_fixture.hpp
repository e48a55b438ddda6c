// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The RTSP server tests' helpers: the program serving a test pattern over RTSP, an FFmpeg and
// a GStreamer client pulling from it, the check of what a client took, and a hand-made RTSP
// client on a plain socket.

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "common/child_process.hpp"
#include "common/media.hpp"
#include "common/test_util.hpp"
#include "net/net_fixture.hpp"

namespace h265direct::test {

constexpr int kWidth = 160;
constexpr int kHeight = 120;

// The program serving a paced 160x120 test pattern over RTSP, once it listens.
struct Server {
    uint16_t port = freePort();
    std::unique_ptr<ChildProcess> process;

    explicit Server(std::vector<std::string> extra = {}, const char* io = nullptr) {
        std::vector<std::string> argv = {binaryPath(),  "--pattern",
                                         "-s",          "160x120",
                                         "--rtsp",      "127.0.0.1:" + std::to_string(port),
                                         "--stats-json"};
        if (std::find(extra.begin(), extra.end(), "--keyint") == extra.end()) {
            argv.insert(argv.end(), {"--keyint", "15"});
        }
        if (io != nullptr) {
            argv.insert(argv.end(), {"--io", io});
        }
        argv.insert(argv.end(), extra.begin(), extra.end());
        process = std::make_unique<ChildProcess>(argv);
        EXPECT_TRUE(process->waitForStderr("RTSP server listening")) << process->err();
    }
    // The server's URL; `userInfo` ("user:password") goes before the host.
    std::string url(const std::string& path = "/", const std::string& userInfo = {}) const {
        return "rtsp://" + (userInfo.empty() ? "" : userInfo + "@") +
               "127.0.0.1:" + std::to_string(port) + path;
    }
    // The last value of a figure in the JSON stats lines.
    long long figure(const std::string& name) {
        const std::string err = process->err();
        const std::regex re("\"" + name + "\":(-?[0-9]+)");
        long long v = -1;
        for (auto it = std::sregex_iterator(err.begin(), err.end(), re);
             it != std::sregex_iterator(); ++it) {
            v = std::stoll((*it)[1]);
        }
        return v;
    }
};

inline std::vector<std::string> ffmpegPull(const std::string& url, const std::string& transport,
                                           int frames, const std::string& out) {
    return {"ffmpeg",
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-rtsp_transport",
            transport,
            "-i",
            url,
            "-frames:v",
            std::to_string(frames),
            "-c",
            "copy",
            "-f",
            "hevc",
            "-flush_packets",
            "1",
            "-y",
            out};
}

// GStreamer's rtspsrc over `protocol` (tcp, udp) writing `frames` access units of the
// depayloaded stream, as Annex-B, to `out`; `props` are more rtspsrc properties
// ("user-id=...").
inline std::vector<std::string> gstPull(const std::string& url, const std::string& protocol,
                                        int frames, const std::string& out,
                                        const std::vector<std::string>& props = {}) {
    std::vector<std::string> argv = {"gst-launch-1.0", "-q", "rtspsrc", "location=" + url,
                                     "protocols=" + protocol};
    argv.insert(argv.end(), props.begin(), props.end());
    // identity eos-after=N passes N - 1 buffers, then ends the stream.
    argv.insert(argv.end(),
                {"!", "rtph265depay", "!", "h265parse", "!",
                 "video/x-h265,stream-format=byte-stream,alignment=au", "!", "identity",
                 "eos-after=" + std::to_string(frames + 1), "!", "filesink", "location=" + out});
    return argv;
}

// The stream a client took: decoded without a decoder error, its size, frame count, first
// frame a keyframe.
inline void expectDecodes(const std::string& path, int frames) {
    const ProbeInfo info = probeHevc(path);
    ASSERT_TRUE(info.ok) << info.error;
    EXPECT_EQ(info.error, "") << "decoder errors";
    EXPECT_EQ(info.width, kWidth);
    EXPECT_EQ(info.height, kHeight);
    EXPECT_EQ(info.frames, frames);
    const std::vector<bool> keys = probeKeyframes(path);
    ASSERT_FALSE(keys.empty());
    EXPECT_TRUE(keys.front()) << "the stream does not start at a keyframe";
}

// A hand-made RTSP client on a plain socket.
struct RawClient {
    int fd = -1;
    explicit RawClient(uint16_t port, int rcvbuf = 0) : fd(connectTo(port, rcvbuf)) {}
    ~RawClient() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    void send(const std::string& s) const {
        ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
    }
    // One answer: the head and the body its Content-Length gives; empty at EOF or silence.
    std::string answer(double idleSec = 10) const {
        std::string text;
        char c = 0;
        while (text.find("\r\n\r\n") == std::string::npos) {
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, static_cast<int>(idleSec * 1000)) != 1 || ::read(fd, &c, 1) != 1) {
                return text;
            }
            text += c;
        }
        const std::smatch m = [&] {
            std::smatch mm;
            std::regex_search(text, mm, std::regex("Content-Length: ([0-9]+)"));
            return mm;
        }();
        if (!m.empty()) {
            const std::vector<uint8_t> body = readSome(fd, std::stoul(m[1]), idleSec);
            text.append(body.begin(), body.end());
        }
        return text;
    }
    // True when the server closes the connection within timeoutSec (what it sent is read).
    bool closedWithin(double timeoutSec) const {
        const int64_t end = monotonicNs() + static_cast<int64_t>(timeoutSec * 1e9);
        char buf[4096];
        while (monotonicNs() < end) {
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, 100) == 1) {
                const ssize_t n = ::read(fd, buf, sizeof buf);
                if (n <= 0) {
                    return true;
                }
            }
        }
        return false;
    }
    std::string request(const std::string& method, const std::string& url, int cseq,
                        const std::string& headers = {}) const {
        send(method + " " + url + " RTSP/1.0\r\nCSeq: " + std::to_string(cseq) + "\r\n" + headers +
             "\r\n");
        return answer();
    }
};

inline std::string statusOf(const std::string& answer) {
    return answer.substr(0, answer.find("\r\n"));
}

}  // namespace h265direct::test
