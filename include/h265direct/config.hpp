// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace h265direct {

enum class SourceKind { Pattern, File, Camera };

// One --ctrl NAME=VALUE: a V4L2 control by the name v4l2-ctl gives it ("brightness",
// "auto_exposure"), and its value as given (a number, a boolean word, or a menu entry's name);
// checked against the device when it is opened.
struct CameraControl {
    std::string name;
    std::string value;
};

struct CameraConfig {
    unsigned buffers = 4;           // mmap buffers queued to the driver
    bool exitOnDeviceLoss = false;  // exit instead of waiting for the device to return
    int frameTimeoutMs = 2000;      // no frame for this long is reported
    bool listFormats = false;       // --list-formats: print what the device offers, exit
    bool listControls = false;      // --list-controls: print the device's controls, exit
    // Set in this order before streaming starts, and again whenever the device returns.
    std::vector<CameraControl> controls;
};

struct SourceConfig {
    SourceKind kind = SourceKind::Pattern;
    std::string path;     // raw file (--input) or device (-d)
    uint32_t fourcc = 0;  // --pixel-format; 0 = the source's choice
    int width = 640;
    int height = 480;
    int fpsNum = 30;
    int fpsDen = 1;
    bool pace = true;   // deliver frames at the frame rate (false: --no-pace)
    bool loop = false;  // raw file: start again at its end
    CameraConfig camera;
};

struct EncoderConfig {
    int bitrateKbps = 1000;  // ABR target
    int vbvMaxrateKbps = 0;  // 0 = no VBV
    int vbvBufsizeKbit = 0;
    int keyint = 0;  // 0 = about 2 s of frames
    std::string preset = "ultrafast";
    std::string tune = "zerolatency";
    int threads = 0;       // x265 pool threads; 0 = x265's choice
    bool verbose = false;  // let x265 log its own messages
};

enum class Framing { Length, AnnexB };

// IORING_OP_SEND_ZC use: Auto sends large writes zero-copy where the kernel has it.
enum class ZeroCopy { Off, On, Auto };

// The network outputs' I/O: Auto = io_uring, or epoll where io_uring is missing or refused.
enum class IoBackend { Auto, Uring, Epoll };

struct NetConfig {
    std::string connect;             // -t HOST:PORT
    std::string listen;              // -l [HOST:]PORT
    std::string rtsp;                // --rtsp [HOST:]PORT: the RTSP server
    std::string rtspPath = "/";      // --rtsp-path: the stream's path in rtsp:// URLs
    int rtspSessionTimeoutSec = 60;  // --rtsp-timeout: a silent RTSP client is closed after it
    // RTSP users: with any (--user USER:PASSWORD entries, --user-file FILE of such lines),
    // every RTSP request but OPTIONS needs one's credentials (Digest; Basic too when asked).
    std::vector<std::string> users;
    std::string userFile;
    bool rtspAuthBasic = false;      // --rtsp-auth digest,basic
    int authNonceLifetimeSec = 300;  // --auth-nonce-lifetime: a Digest nonce expires after it
    // --publish URL, any number: rtsp://HOST[:PORT]/PATH (RECORD) or srt://HOST:PORT[?...]
    std::vector<std::string> publish;
    Framing framing = Framing::Length;
    bool exitOnDisconnect = false;
    size_t peerQueueBytes = 8u << 20;
    size_t peerQueueFrames = 120;
    ZeroCopy zeroCopy = ZeroCopy::Off;
    size_t zeroCopyMinBytes = 64u << 10;   // Auto: writes at least this large go zero-copy
    int connectTimeoutMs = 3000;           // one connection attempt (-t)
    int reconnectMinMs = 250;              // first retry delay; doubles per failure
    int reconnectMaxMs = 5000;             // cap of the retry delay
    int keyframeRequestIntervalMs = 1000;  // at most one keyframe request per interval
    int maxPeers = 64;                     // -l: receivers at once; 0 = no limit
    bool keepEncoding = false;             // encode even while no receiver is connected
    int finishTimeoutMs = 2000;            // at the end: time to deliver what is queued
    size_t sendBufferBytes = 128u << 10;   // SO_SNDBUF per connection; 0 = kernel autotuning
    IoBackend io = IoBackend::Auto;        // --io
};

struct OutputConfig {
    std::string file;  // -o FILE; "-" = stdout; empty = none
    NetConfig net;
};

struct StatsConfig {
    bool quiet = false;     // -q: no stats, errors only
    bool json = false;      // --stats-json: one JSON object per interval
    bool perFrame = false;  // -v: one line per frame, like the original script
    int intervalMs = 1000;
};

struct EngineConfig {
    SourceConfig source;
    EncoderConfig encoder;
    OutputConfig output;
    StatsConfig stats;
    uint64_t maxFrames = 0;  // --frames; 0 = no limit
    double durationSec = 0;  // --duration; 0 = no limit
    // Convert (and read) the next frame on a second thread while the current one encodes,
    // when the source needs converting (--no-convert-thread: on the engine thread).
    bool convertThread = true;
};

// Exit codes of the program (and Engine::run's result).
enum ExitCode : int {
    kExitOk = 0,
    kExitFailure = 1,     // a runtime failure not named below
    kExitUsage = 2,       // a bad option or value
    kExitInput = 3,       // input missing or unreadable (file, device path)
    kExitNotCapture = 4,  // the device is not a video capture/streaming device
    kExitDeviceBusy = 5,  // the device is in use by another process
    kExitFormat = 6,      // the device cannot give the format, size or rate asked
    kExitDeviceLost = 7,  // the device went away (with exit-on-device-loss)
    kExitNetwork = 8,     // a network failure (with exit-on-disconnect)
    kExitOutput = 9,      // writing the output failed
};

}  // namespace h265direct
