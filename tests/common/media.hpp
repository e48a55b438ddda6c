// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Real decoders (FFmpeg, GStreamer) as test references.

#include <cstdint>
#include <string>
#include <vector>

namespace h265direct::test {

struct ProbeInfo {
    bool ok = false;
    int frames = -1;  // frames decoded (ffprobe -count_frames)
    std::string profile;
    std::string pixFmt;
    std::string colorRange;  // tv = limited
    std::string colorSpace;
    int width = 0;
    int height = 0;
    std::string error;
};

// ffprobe -count_frames on a raw H.265 (Annex-B) file, or on a container of the given
// format ("mpegts": what an SRT listener writes). `error` holds what ffprobe reported, also
// when it decoded frames: a clean decode leaves it empty.
ProbeInfo probeHevc(const std::string& path, const std::string& format = "hevc");

// Key-frame flag of every decoded frame, in order (ffprobe -show_frames).
std::vector<bool> probeKeyframes(const std::string& path);

// Decodes with GStreamer (filesrc ! h265parse ! avdec_h265) to I420; returns the number of
// frames, or -1 when the pipeline fails (err gets its output).
int gstDecodeFrames(const std::string& path, int width, int height, std::string* err = nullptr);

// Decodes with FFmpeg to raw yuv420p frames; returns the bytes (empty on failure).
std::vector<uint8_t> ffmpegDecodeI420(const std::string& path);

// PSNR in dB between two planes of equal size (99 when identical).
double psnr(const uint8_t* a, const uint8_t* b, size_t n);

}  // namespace h265direct::test
