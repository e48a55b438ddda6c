// SPDX-License-Identifier: GPL-2.0-or-later
#include "common/media.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

#include "common/test_util.hpp"

namespace h265direct::test {

ProbeInfo probeHevc(const std::string& path, const std::string& format) {
    ProbeInfo info;
    const ProcessResult r =
        runProcess({"ffprobe", "-v", "error", "-f", format, "-count_frames", "-select_streams",
                    "v:0", "-show_entries",
                    "stream=nb_read_frames,profile,pix_fmt,width,height,color_range,color_space",
                    "-of", "default=noprint_wrappers=1", path});
    if (r.exitCode != 0) {
        info.error = r.err;
        return info;
    }
    // A figure ffprobe could not give ("N/A", e.g. for an empty file) stays -1.
    auto number = [](const std::string& text) {
        int n = -1;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        return ec == std::errc() && end == text.data() + text.size() ? n : -1;
    };
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
        const size_t eq = line.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        const std::string key = line.substr(0, eq);
        const std::string value = line.substr(eq + 1);
        if (key == "nb_read_frames") {
            info.frames = number(value);
        } else if (key == "profile") {
            info.profile = value;
        } else if (key == "pix_fmt") {
            info.pixFmt = value;
        } else if (key == "color_range") {
            info.colorRange = value;
        } else if (key == "color_space") {
            info.colorSpace = value;
        } else if (key == "width") {
            info.width = number(value);
        } else if (key == "height") {
            info.height = number(value);
        }
    }
    info.ok = info.frames >= 0;
    info.error = info.ok ? r.err : "ffprobe found no frames: " + r.err;
    return info;
}

std::vector<bool> probeKeyframes(const std::string& path) {
    const ProcessResult r =
        runProcess({"ffprobe", "-v", "error", "-f", "hevc", "-select_streams", "v:0",
                    "-show_entries", "frame=key_frame", "-of", "csv=p=0", path});
    std::vector<bool> keys;
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
        if (!line.empty()) {
            keys.push_back(line[0] == '1');
        }
    }
    return keys;
}

int gstDecodeFrames(const std::string& path, int width, int height, std::string* err) {
    TempDir dir;
    const std::string raw = dir.file("decoded.yuv");
    const ProcessResult r = runProcess(
        {"gst-launch-1.0", "-q", "filesrc", "location=" + path, "!", "h265parse", "!", "avdec_h265",
         "!", "videoconvert", "!", "video/x-raw,format=I420", "!", "filesink", "location=" + raw});
    if (r.exitCode != 0) {
        if (err != nullptr) {
            *err = r.out + r.err;
        }
        return -1;
    }
    const size_t frameBytes = static_cast<size_t>(width) * height * 3 / 2;
    const size_t bytes = readFile(raw).size();
    if (bytes % frameBytes != 0) {
        if (err != nullptr) {
            *err = "decoded size " + std::to_string(bytes) + " is not a whole number of frames";
        }
        return -1;
    }
    return static_cast<int>(bytes / frameBytes);
}

std::vector<uint8_t> ffmpegDecodeI420(const std::string& path) {
    TempDir dir;
    const std::string raw = dir.file("decoded.yuv");
    const ProcessResult r = runProcess({"ffmpeg", "-v", "error", "-y", "-f", "hevc", "-i", path,
                                        "-f", "rawvideo", "-pix_fmt", "yuv420p", raw});
    if (r.exitCode != 0) {
        return {};
    }
    return readFile(raw);
}

double psnr(const uint8_t* a, const uint8_t* b, size_t n) {
    double sse = 0;
    for (size_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(a[i]) - b[i];
        sse += d * d;
    }
    if (sse == 0) {
        return 99.0;
    }
    const double mse = sse / static_cast<double>(n);
    return 10.0 * std::log10(255.0 * 255.0 / mse);
}

}  // namespace h265direct::test
