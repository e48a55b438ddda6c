// SPDX-License-Identifier: GPL-2.0-or-later
#include "app/options.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "app/camera_options.hpp"
#include "app/cmdline.hpp"
#include "app/net_options.hpp"
#include "frame/pixel_format.hpp"

namespace h265direct {
namespace {

using cli::UsageError;

// "640x480" -> width, height.
bool parseSize(const std::string& text, int& w, int& h) {
    const size_t x = text.find_first_of("xX");
    if (x == std::string::npos) {
        return false;
    }
    const char* end = text.data() + text.size();
    auto a = std::from_chars(text.data(), text.data() + x, w);
    auto b = std::from_chars(text.data() + x + 1, end, h);
    return a.ec == std::errc() && a.ptr == text.data() + x && b.ec == std::errc() && b.ptr == end;
}

// "30", "30/1", "30000/1001", "29.97" -> num/den.
bool parseRate(const std::string& text, int& num, int& den) {
    const char* begin = text.data();
    const char* end = begin + text.size();
    const size_t slash = text.find('/');
    if (slash != std::string::npos) {
        auto a = std::from_chars(begin, begin + slash, num);
        auto b = std::from_chars(begin + slash + 1, end, den);
        return a.ec == std::errc() && a.ptr == begin + slash && b.ec == std::errc() &&
               b.ptr == end && den > 0;
    }
    double value = 0;
    auto r = std::from_chars(begin, end, value);
    if (r.ec != std::errc() || r.ptr != end || !std::isfinite(value) || value <= 0 || value > 1e6) {
        return false;
    }
    if (value == std::floor(value)) {
        num = static_cast<int>(value);
        den = 1;
    } else {
        num = static_cast<int>(std::lround(value * 1000));
        den = 1000;
    }
    return true;
}

std::string supportedFormatList() {
    std::string list;
    for (const PixelFormatInfo& f : supportedPixelFormats()) {
        list += list.empty() ? "" : ", ";
        list += f.name;
    }
    return list;
}

// -s: "640x480" -> width, height; the stream is 4:2:0, so the encoder needs even sizes
// whatever the input, and x265 takes nothing below 32x32.
void setSize(const std::string& size, SourceConfig& src) {
    int w = 0;
    int h = 0;
    if (!parseSize(size, w, h)) {
        throw UsageError{"'" + size + "' is not WIDTHxHEIGHT, e.g. 640x480"};
    }
    if (w < 32 || h < 32 || w > 8192 || h > 4320 || w % 2 != 0 || h % 2 != 0) {
        throw UsageError{size +
                         " is not a size h265direct can encode (even width and height, "
                         "32x32 to 8192x4320)"};
    }
    src.width = w;
    src.height = h;
}

// -r: "30", "30000/1001", "29.97".
void setRate(const std::string& rate, SourceConfig& src) {
    int num = 0;
    int den = 1;
    if (!parseRate(rate, num, den) || static_cast<double>(num) / den > 240 || num <= 0) {
        throw UsageError{"'" + rate +
                         "' is not a frame rate from 1 to 240 (e.g. 30, 25, 30000/1001)"};
    }
    if (static_cast<double>(num) / den < 1) {
        throw UsageError{rate + " is below 1 frame per second"};
    }
    src.fpsNum = num;
    src.fpsDen = den;
}

// --pixel-format: a FOURCC or name the converter takes; "auto" = the source's choice.
void setPixelFormat(const std::string& name, SourceConfig& src) {
    if (name == "auto") {
        src.fourcc = 0;
        return;
    }
    auto fourcc = parseFourcc(name);
    if (!fourcc || findPixelFormat(*fourcc) == nullptr) {
        throw UsageError{"unknown pixel format '" + name + "' (supported: auto, " +
                         supportedFormatList() + ")"};
    }
    src.fourcc = *fourcc;
}

// --input: a file, or "-" (stdin). Whether it can be read is the source's to say (exit 3, as
// for a device), not a usage error.
void setInput(const std::string& input, std::string& target) {
    if (input.empty()) {
        throw UsageError{"empty value"};
    }
    target = input;
}

// What needs every option: the source kind, and the combinations.
void validate(AppOptions& o, bool pattern, const std::string& device, const std::string& input) {
    SourceConfig& src = o.engine.source;
    if (!input.empty()) {
        src.kind = SourceKind::File;
        src.path = input;  // opened (and refused: exit 3) by the source, like a device
    } else if (pattern) {
        src.kind = SourceKind::Pattern;
    } else {
        src.kind = SourceKind::Camera;
        src.path = device.empty() ? "/dev/video0" : device;
    }
    if (src.kind != SourceKind::Camera &&
        (!src.camera.controls.empty() || src.camera.listControls || src.camera.listFormats)) {
        throw UsageError{std::string(!src.camera.controls.empty() ? "--ctrl"
                                     : src.camera.listControls    ? "--list-controls"
                                                                  : "--list-formats") +
                         " is for a camera (-d DEVICE), not " +
                         (pattern ? "--pattern" : "--input")};
    }
    if (src.kind == SourceKind::File && src.fourcc == 0) {
        throw UsageError{
            "--input needs --pixel-format FOURCC (and -s WxH): a raw file "
            "does not say what it holds"};
    }
    if (src.fourcc != 0 && src.kind != SourceKind::Camera &&
        !packedLayout(src.fourcc, src.width, src.height)) {
        throw UsageError{"-s: " + std::to_string(src.width) + "x" + std::to_string(src.height) +
                         " is not a valid size for pixel format " + fourccToString(src.fourcc)};
    }
    const EncoderConfig& enc = o.engine.encoder;
    if ((enc.vbvMaxrateKbps > 0) != (enc.vbvBufsizeKbit > 0)) {
        throw UsageError{"--vbv-maxrate and --vbv-bufsize go together: give both"};
    }
    if (!o.engine.output.file.empty() && o.engine.output.file != "-") {
        if (o.engine.output.file == input) {
            throw UsageError{"-o: the output would overwrite the input " + input};
        }
    }
}

// Builds the command line's parser over `o`, lets `parse` run it (-1: go on, or the exit code
// to end with) and, when it goes on, applies what depends on several options.
int withParser(AppOptions& o, const std::function<int(cli::Parser&)>& parse) {
    EngineConfig& cfg = o.engine;
    cli::Parser p(
        "h265direct",
        "h265direct: camera (V4L2) -> H.265 (libx265, lowest latency) -> file, stdout or TCP.\n"
        "Without -d/--pattern/--input it captures /dev/video0.",
        std::string("h265direct ") + H265D_VERSION);

    std::string device, input;
    bool pattern = false;
    bool noPace = false;
    p.group("Source");
    p.option("-d,--device", "DEVICE", "V4L2 capture device", "/dev/video0", cli::text(device));
    p.flag("--pattern", pattern, "Built-in moving test pattern (no camera needed)");
    p.option("--input", "FILE", "Raw video file, '-' = stdin (needs --pixel-format and -s)", "",
             [&input](const std::string& v) { setInput(v, input); });
    p.excludes("--device", "--pattern");
    p.excludes("--device", "--input");
    p.excludes("--pattern", "--input");
    p.option("--pixel-format", "FOURCC",
             "Pixel format of the input file or the camera; the pattern's is YUYV. One of: " +
                 supportedFormatList(),
             "auto", [&cfg](const std::string& v) { setPixelFormat(v, cfg.source); });
    p.option("-s,--size", "WxH",
             "Frame size WIDTHxHEIGHT (even, 32x32..8192x4320; 64x64 at least from --preset "
             "veryfast on)",
             "640x480", [&cfg](const std::string& v) { setSize(v, cfg.source); });
    p.option("-r,--fps", "FPS", "Frame rate, 1..240 (30, 25, 30000/1001 ...)", "30",
             [&cfg](const std::string& v) { setRate(v, cfg.source); });
    p.flag("--loop", cfg.source.loop, "Raw file: start again at its end");
    p.flag("--no-pace", noPace, "Pattern/file: deliver frames as fast as possible, not at -r");

    addCameraOptions(p, cfg.source);

    const EncoderConfig defaults;
    p.group("Encoder (libx265)");
    p.option("-b,--bitrate", "KBPS", "Target bitrate, kbit/s (ABR), 10..1000000",
             std::to_string(defaults.bitrateKbps),
             cli::integer(cfg.encoder.bitrateKbps, 10, 1000000));
    p.option("--vbv-maxrate", "KBPS",
             "VBV max rate, kbit/s, for capped low-latency rate control (0 = off)", "0",
             cli::integer(cfg.encoder.vbvMaxrateKbps, 0, 1000000));
    p.option("--vbv-bufsize", "KBIT", "VBV buffer size, kbit (0 = off; give with --vbv-maxrate)",
             "0", cli::integer(cfg.encoder.vbvBufsizeKbit, 0, 1000000));
    p.option("--keyint", "N", "Frames between IDR keyframes (0 = 2 s of frames)", "0",
             cli::integer(cfg.encoder.keyint, 0, 100000));
    p.option("--preset", "NAME",
             "x265 preset: ultrafast superfast veryfast faster fast medium slow slower "
             "veryslow placebo",
             defaults.preset, cli::text(cfg.encoder.preset));
    p.option("--tune", "NAME", "x265 tune: zerolatency fastdecode psnr ssim grain animation none",
             defaults.tune, cli::text(cfg.encoder.tune));
    p.option("--threads", "N", "x265 worker threads (0 = one per core), ..256", "0",
             cli::integer(cfg.encoder.threads, 0, 256));

    p.group("Output");
    p.option("-o,--output", "FILE", "Write the raw H.265 Annex-B stream to FILE ('-' = stdout)", "",
             cli::text(cfg.output.file));

    addNetOptions(p, cfg.output.net);

    bool noConvertThread = false;
    p.group("Run");
    p.option("--frames", "N", "Stop after N frames (0 = no limit)", "0",
             cli::integer(cfg.maxFrames, 0, 1LL << 40));
    p.option("--duration", "S", "Stop after S seconds (0 = no limit)", "0",
             cli::number(cfg.durationSec, 0.0, 1e9));
    p.flag("--no-convert-thread", noConvertThread,
           "Convert each frame on the encoding thread instead of a second thread working one "
           "frame ahead");
    p.flag("--stats-json", cfg.stats.json, "Per-second stats as one JSON object per line (stderr)");
    p.counter("-v,--verbose", o.verbosity,
              "Per-frame lines and x265's own log; twice (-vv, --verbose=2): debug messages");
    p.flag("-q,--quiet", cfg.stats.quiet, "No stats; errors only");
    p.check([&] { validate(o, pattern, device, input); });
    p.configFile();

    if (const int rc = parse(p); rc >= 0) {
        return rc;
    }
    if (noPace) {
        cfg.source.pace = false;
    }
    if (noConvertThread) {
        cfg.convertThread = false;
    }
    if (o.verbosity > 0) {
        cfg.stats.perFrame = true;
        cfg.encoder.verbose = true;
    }
    return -1;
}

}  // namespace

int parseOptions(int argc, char** argv, AppOptions& options,
                 std::function<std::string()> versionDetails) {
    return withParser(options, [&](cli::Parser& p) {
        p.versionDetails(std::move(versionDetails));
        return p.parse(argc, argv);
    });
}

bool parseOptionList(const std::vector<std::string>& args, AppOptions& options) {
    return withParser(options, [&](cli::Parser& p) { return p.parseOrThrow(args) ? -1 : 0; }) < 0;
}

std::string optionsHelp() {
    AppOptions unused;
    std::string text;
    withParser(unused, [&](cli::Parser& p) {
        text = p.help();
        return 0;
    });
    return text;
}

}  // namespace h265direct
