#include "app/options.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "app/camera_options.hpp"
#include "app/net_options.hpp"
#include "convert/pixel_format.hpp"

namespace h265direct {
namespace {

struct UsageError {
    std::string message;
};

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

void validate(AppOptions& o, const std::string& size, const std::string& rate,
              const std::string& pixelFormat, bool pattern, const std::string& device,
              const std::string& input) {
    SourceConfig& src = o.engine.source;
    if (!input.empty()) {
        src.kind = SourceKind::File;
        src.path = input;
        if (input != "-" && access(input.c_str(), R_OK) != 0) {
            throw UsageError{"--input " + input + ": " + strerror(errno)};
        }
    } else if (pattern) {
        src.kind = SourceKind::Pattern;
    } else {
        src.kind = SourceKind::Camera;
        src.path = device.empty() ? "/dev/video0" : device;
    }
    if (!pixelFormat.empty()) {
        auto fourcc = parseFourcc(pixelFormat);
        if (!fourcc || findPixelFormat(*fourcc) == nullptr) {
            throw UsageError{"--pixel-format: unknown pixel format '" + pixelFormat +
                             "' (supported: " + supportedFormatList() + ")"};
        }
        src.fourcc = *fourcc;
    } else if (src.kind == SourceKind::File) {
        throw UsageError{
            "--input needs --pixel-format FOURCC (and -s WxH): a raw file "
            "does not say what it holds"};
    }
    if (!size.empty()) {
        if (!parseSize(size, src.width, src.height)) {
            throw UsageError{"-s: '" + size + "' is not WIDTHxHEIGHT, e.g. 640x480"};
        }
        // The stream is 4:2:0, so the encoder needs even sizes whatever the input.
        if (src.width < 16 || src.height < 16 || src.width > 8192 || src.height > 4320 ||
            src.width % 2 != 0 || src.height % 2 != 0) {
            throw UsageError{"-s: " + size +
                             " is not a size h265direct can encode (even width and height, "
                             "16x16 to 8192x4320)"};
        }
    }
    if (src.fourcc != 0 && src.kind != SourceKind::Camera &&
        !packedLayout(src.fourcc, src.width, src.height)) {
        throw UsageError{"-s: " + std::to_string(src.width) + "x" + std::to_string(src.height) +
                         " is not a valid size for pixel format " + fourccToString(src.fourcc)};
    }
    if (!rate.empty()) {
        if (!parseRate(rate, src.fpsNum, src.fpsDen) ||
            static_cast<double>(src.fpsNum) / src.fpsDen > 240 || src.fpsNum <= 0) {
            throw UsageError{"-r: '" + rate +
                             "' is not a frame rate from 1 to 240 (e.g. 30, "
                             "25, 30000/1001)"};
        }
        if (static_cast<double>(src.fpsNum) / src.fpsDen < 1) {
            throw UsageError{"-r: " + rate + " is below 1 frame per second"};
        }
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

}  // namespace

int parseOptions(int argc, char** argv, AppOptions& o) {
    EngineConfig& cfg = o.engine;
    CLI::App app{
        "h265direct: camera (V4L2) -> H.265 (libx265, lowest latency) -> file, "
        "stdout or TCP.\nWithout -d/--pattern/--input it captures /dev/video0.",
        "h265direct"};
    app.option_defaults()->always_capture_default();
    app.set_version_flag("--version", std::string("h265direct ") + H265D_VERSION);
    app.get_formatter()->column_width(34);

    std::string device, input, size, rate, pixelFormat;
    bool pattern = false;
    auto* sourceGroup = app.add_option_group("Source");
    auto* dOpt = sourceGroup->add_option("-d,--device", device, "V4L2 capture device")
                     ->default_str("/dev/video0");
    auto* pOpt = sourceGroup->add_flag("--pattern", pattern,
                                       "Built-in moving test pattern (no camera needed)");
    auto* iOpt =
        sourceGroup->add_option("--input", input, "Raw video file (needs --pixel-format and -s)");
    dOpt->excludes(pOpt)->excludes(iOpt);
    pOpt->excludes(iOpt);
    sourceGroup
        ->add_option("--pixel-format", pixelFormat,
                     "Pixel format (fourcc) of the input file or the camera; the "
                     "pattern's is YUYV. One of: " +
                         supportedFormatList())
        ->default_str("auto");
    sourceGroup->add_option("-s,--size", size, "Frame size WIDTHxHEIGHT (even, 16x16..8192x4320)")
        ->default_str("640x480");
    sourceGroup->add_option("-r,--fps", rate, "Frame rate, 1..240 (30, 25, 30000/1001 ...)")
        ->default_str("30");
    sourceGroup->add_flag("--loop", cfg.source.loop, "Raw file: start again at its end");
    bool noPace = false;
    sourceGroup->add_flag("--no-pace", noPace,
                          "Pattern/file: deliver frames as fast as possible, not at -r");

    addCameraOptions(app, cfg.source);

    auto* encGroup = app.add_option_group("Encoder (libx265)");
    encGroup->add_option("-b,--bitrate", cfg.encoder.bitrateKbps, "Target bitrate, kbit/s (ABR)")
        ->check(CLI::Range(10, 1000000));
    encGroup
        ->add_option("--vbv-maxrate", cfg.encoder.vbvMaxrateKbps,
                     "VBV max rate, kbit/s, for capped low-latency rate control (0 = off)")
        ->check(CLI::Range(0, 1000000));
    encGroup
        ->add_option("--vbv-bufsize", cfg.encoder.vbvBufsizeKbit,
                     "VBV buffer size, kbit (0 = off; give with --vbv-maxrate)")
        ->check(CLI::Range(0, 1000000));
    encGroup
        ->add_option("--keyint", cfg.encoder.keyint,
                     "Frames between IDR keyframes (0 = 2 s of frames)")
        ->check(CLI::Range(0, 100000));
    encGroup->add_option("--preset", cfg.encoder.preset,
                         "x265 preset: ultrafast superfast veryfast faster fast medium slow "
                         "slower veryslow placebo");
    encGroup->add_option("--tune", cfg.encoder.tune,
                         "x265 tune: zerolatency fastdecode psnr ssim grain animation none");
    encGroup->add_option("--threads", cfg.encoder.threads, "x265 worker threads (0 = one per core)")
        ->check(CLI::Range(0, 256));

    auto* outGroup = app.add_option_group("Output");
    outGroup->add_option("-o,--output", cfg.output.file,
                         "Write the raw H.265 Annex-B stream to FILE ('-' = stdout)");

    addNetOptions(app, cfg.output.net);
    auto* runGroup = app.add_option_group("Run");
    runGroup->add_option("--frames", cfg.maxFrames, "Stop after N frames (0 = no limit)")
        ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 40));
    runGroup->add_option("--duration", cfg.durationSec, "Stop after S seconds (0 = no limit)")
        ->check(CLI::Range(0.0, 1e9));
    bool noConvertThread = false;
    runGroup->add_flag("--no-convert-thread", noConvertThread,
                       "Convert each frame on the encoding thread instead of a second thread "
                       "working one frame ahead");
    runGroup->add_flag("--stats-json", cfg.stats.json,
                       "Per-second stats as one JSON object per line (stderr)");
    runGroup->add_flag("-v,--verbose", o.verbosity,
                       "Per-frame lines and x265's own log; twice: debug messages");
    runGroup->add_flag("-q,--quiet", cfg.stats.quiet, "No stats; errors only");

    try {
        app.parse(argc, argv);
        if (noPace) {
            cfg.source.pace = false;
        }
        if (noConvertThread) {
            cfg.convertThread = false;
        }
        validate(o, size, rate, pixelFormat, pattern, device, input);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        fprintf(stderr, "h265direct: error: %s (see --help)\n", e.what());
        return kExitUsage;
    } catch (const UsageError& e) {
        fprintf(stderr, "h265direct: error: %s\n", e.message.c_str());
        return kExitUsage;
    }
    if (o.verbosity > 0) {
        cfg.stats.perFrame = true;
        cfg.encoder.verbose = true;
    }
    return -1;
}

}  // namespace h265direct
