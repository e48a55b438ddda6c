// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

// Choosing a camera format from what the device says it offers. Pure code: the inputs are
// the recorded enumeration (VIDIOC_ENUM_FMT / ENUM_FRAMESIZES / ENUM_FRAMEINTERVALS) and
// the request; nothing here touches a device, so it is tested on recorded lists.

namespace h265direct {

// A rate as frames per second num/den (the inverse of V4L2's time per frame).
struct FrameRate {
    int num = 0;
    int den = 1;
    double fps() const { return den == 0 ? 0.0 : static_cast<double>(num) / den; }
    bool valid() const { return num > 0 && den > 0; }
};

// Rates offered for one size: a discrete list, or a continuous/stepwise range of frame
// intervals (given here as the rates at its ends). Both empty: the driver did not say.
struct RateCaps {
    std::vector<FrameRate> discrete;
    std::optional<FrameRate> slowest;  // range: lowest rate (longest interval)
    std::optional<FrameRate> fastest;  // range: highest rate (shortest interval)
    bool known() const { return !discrete.empty() || (slowest && fastest); }
};

// One size (discrete) or a range of sizes (stepwise / continuous).
struct SizeCaps {
    int width = 0;  // discrete size, or the range's minimum
    int height = 0;
    bool range = false;
    int maxWidth = 0;
    int maxHeight = 0;
    int stepWidth = 1;
    int stepHeight = 1;
    RateCaps rates;  // for a range: the rates at the requested size, when known

    bool contains(int w, int h) const;
};

struct CameraFormatDesc {
    uint32_t fourcc = 0;
    std::string description;
    bool emulated = false;        // made by libv4l2 from another format (V4L2_FMT_FLAG_EMULATED)
    bool compressed = false;      // V4L2_FMT_FLAG_COMPRESSED (MJPEG, H.264...)
    std::vector<SizeCaps> sizes;  // empty: the driver did not enumerate sizes
};

struct NegotiationRequest {
    uint32_t fourcc = 0;  // forced camera format (--pixel-format); 0 = choose
    int width = 640;
    int height = 480;
    FrameRate rate{30, 1};
};

// The format, size and rate negotiateFormat picked.
struct FormatChoice {
    uint32_t fourcc = 0;
    std::string description;
    bool emulated = false;
    uint32_t sourceFourcc = 0;  // emulated: the camera's own format libv4l2 converts from
    int cost = 0;               // the negotiation cost of turning it into I420
    bool reachesRate = false;   // the rate asked for (or faster) is offered, or not listed
    uint32_t passedOver = 0;    // a cheaper format not chosen because it is slower (0: none)
    int width = 0;
    int height = 0;
    FrameRate rate;                  // the rate to ask the driver for (VIDIOC_S_PARM)
    bool rateKnown = false;          // the driver listed its rates for this size
    std::vector<std::string> notes;  // what differs from the request, and why this format
};

// True for the formats h265direct turns into I420 itself (the rows of the pixel-format table).
using CanConvert = std::function<bool(uint32_t fourcc)>;

// The cost of a format canConvert takes that has no row in the pixel-format table.
inline constexpr int kUnrankedConversionCost = 50;

// The cost of a compressed camera format (MJPEG) that libv4l2 decodes into an emulated one,
// on the pixel-format table's scale (YUYV 20): decoding a JPEG costs about 17 times the
// CPU of unpacking YUYV (measured in docs/benchmarks.md, "MJPEG decode").
inline constexpr int kMjpegDecodeCost = 340;

// How costly a native format is to turn into I420 (the pixel-format table's cost column):
// 0 = I420 itself, larger = more work; nullopt for formats canConvert refuses.
std::optional<int> conversionCost(uint32_t fourcc, const CanConvert& canConvert);

// Picks the format, size and rate. Rules (see docs/camera.md):
//  - only formats the converter takes, native or emulated by libv4l2;
//  - the requested size must be offered; otherwise an Error (kExitFormat) that lists the
//    sizes that are — a silently different picture size would surprise every receiver;
//  - a format that reaches the requested rate beats one that does not; among those that
//    do, the cheapest to turn into I420 wins (an emulated format costs its own conversion
//    plus its source's: kMjpegDecodeCost for MJPEG); when none does, the fastest wins, then
//    the cheapest; at equal cost a native format beats an emulated one;
//  - the rate is the one offered nearest below the request (else the slowest above), and a
//    note says so when it is not the one asked for, and when a cheaper but slower format
//    was passed over.
Result<FormatChoice> negotiateFormat(const std::vector<CameraFormatDesc>& formats,
                                     const NegotiationRequest& request,
                                     const CanConvert& canConvert);

// What --list-formats prints for a request: the choice, the rate reached or not, its cost
// and why (the notes), one item a line; or the error.
std::string choiceText(const std::vector<CameraFormatDesc>& formats,
                       const NegotiationRequest& request, const CanConvert& canConvert);

// <0, 0, >0; rates within 0.1% of each other compare equal (30 and 10000000/333333).
int compareRates(FrameRate a, FrameRate b);

// The rate chosen for one size's caps (the rule above); nullopt when the caps are unknown.
std::optional<FrameRate> pickRate(const RateCaps& caps, FrameRate wanted);

// "30", "12.5", "7.49" for messages.
std::string formatRate(FrameRate rate);

}  // namespace h265direct
