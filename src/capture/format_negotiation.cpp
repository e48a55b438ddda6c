// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture/format_negotiation.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "core/text.hpp"
#include "frame/pixel_format.hpp"
#include "h265direct/config.hpp"

namespace h265direct {

namespace {

int64_t gcd64(int64_t a, int64_t b) {
    return b == 0 ? a : gcd64(b, a % b);
}

}  // namespace

int compareRates(FrameRate a, FrameRate b) {
    // Drivers state rates as time per frame in their own units (UVC: 100 ns), so 30 fps
    // arrives as 10000000/333333. Rates within 0.1% are the same rate.
    const double x = a.fps();
    const double y = b.fps();
    if (std::fabs(x - y) <= 0.001 * std::max(x, y)) {
        return 0;
    }
    return x < y ? -1 : 1;
}

namespace {

std::string sizeText(int w, int h) {
    return std::to_string(w) + "x" + std::to_string(h);
}

const SizeCaps* findSize(const CameraFormatDesc& f, int w, int h) {
    for (const SizeCaps& s : f.sizes) {
        if (s.contains(w, h)) {
            return &s;
        }
    }
    return nullptr;
}

std::string sizesOffered(const std::vector<const CameraFormatDesc*>& formats) {
    std::set<std::pair<int, int>> discrete;
    std::vector<std::string> ranges;
    for (const CameraFormatDesc* f : formats) {
        for (const SizeCaps& s : f->sizes) {
            if (s.range) {
                std::string r = sizeText(s.width, s.height) + " to " +
                                sizeText(s.maxWidth, s.maxHeight) + " in steps of " +
                                sizeText(s.stepWidth, s.stepHeight);
                if (std::find(ranges.begin(), ranges.end(), r) == ranges.end()) {
                    ranges.push_back(r);
                }
            } else {
                discrete.insert({s.width, s.height});
            }
        }
    }
    std::string text;
    for (const auto& [w, h] : discrete) {
        appendItem(text, ", ", sizeText(w, h));
    }
    for (const std::string& r : ranges) {
        appendItem(text, ", ", r);
    }
    return text.empty() ? "none" : text;
}

struct Candidate {
    const CameraFormatDesc* format = nullptr;
    const SizeCaps* size = nullptr;  // nullptr: sizes not enumerated (the driver decides)
    int cost = 0;
    uint32_t source = 0;  // emulated: the camera's own format libv4l2 converts from (0: unknown)
    std::optional<FrameRate> rate;
    bool reachesRate = true;  // the rate asked for (or faster) is offered, or unknown
};

// Candidates in order of preference: those that reach the asked rate, by cost; then those
// that do not, fastest first, then by cost. At equal cost the camera's own format beats one
// libv4l2 makes; then the device's order (the sort is stable).
bool preferred(const Candidate& a, const Candidate& b) {
    if (a.reachesRate != b.reachesRate) {
        return a.reachesRate;
    }
    if (!a.reachesRate && a.rate && b.rate) {
        if (const int c = compareRates(*a.rate, *b.rate); c != 0) {
            return c > 0;
        }
    }
    if (a.cost != b.cost) {
        return a.cost < b.cost;
    }
    return !a.format->emulated && b.format->emulated;
}

// The cost of the camera's own format as the source of a libv4l2-emulated one.
int sourceCost(const CameraFormatDesc& native, const CanConvert& canConvert) {
    if (const auto cost = conversionCost(native.fourcc, canConvert)) {
        return *cost;
    }
    return native.compressed ? kMjpegDecodeCost : kUnrankedConversionCost;
}

// libv4l2 makes an emulated format from one of the camera's own formats. Its cost is the
// conversion from that source plus the emulated format's own cost. The source is the
// cheapest native format that offers the size at the emulated entry's rate or faster; when
// the driver lists no sizes, a compressed native format is assumed to be the source if
// there is one.
void costEmulated(Candidate& c, const std::vector<CameraFormatDesc>& formats, int w, int h,
                  FrameRate wanted, const CanConvert& canConvert) {
    std::optional<int> best;
    for (const CameraFormatDesc& f : formats) {
        if (f.emulated) {
            continue;
        }
        if (c.rate) {
            const SizeCaps* s = findSize(f, w, h);
            const auto r = s ? pickRate(s->rates, wanted) : std::nullopt;
            if (!r || compareRates(*r, *c.rate) < 0) {
                continue;
            }
        }
        const int cost = sourceCost(f, canConvert);
        if (!best || cost < *best) {
            best = cost;
            c.source = f.fourcc;
        }
    }
    if (!best) {
        const bool compressed = std::any_of(formats.begin(), formats.end(), [](const auto& f) {
            return !f.emulated && f.compressed;
        });
        best = compressed ? kMjpegDecodeCost : kUnrankedConversionCost;
    }
    c.cost += *best;
}

std::string costText(const Candidate& c) {
    return "cost " + std::to_string(c.cost);
}

std::string rateReachText(const Candidate& c, int w, int h) {
    if (!c.rate) {
        return "rate not listed by the driver";
    }
    return formatRate(*c.rate) + " fps at " + sizeText(w, h);
}

std::string describe(const Candidate& c) {
    std::string s = fourccToString(c.format->fourcc);
    if (c.format->emulated) {
        s += " (converted by libv4l2" +
             (c.source ? " from " + fourccToString(c.source) : std::string()) + ")";
    }
    return s;
}

}  // namespace

bool SizeCaps::contains(int w, int h) const {
    if (!range) {
        return w == width && h == height;
    }
    if (w < width || w > maxWidth || h < height || h > maxHeight) {
        return false;
    }
    const int sw = std::max(stepWidth, 1);
    const int sh = std::max(stepHeight, 1);
    return (w - width) % sw == 0 && (h - height) % sh == 0;
}

std::optional<int> conversionCost(uint32_t fourcc, const CanConvert& canConvert) {
    if (!canConvert(fourcc)) {
        return std::nullopt;
    }
    const PixelFormatInfo* f = findPixelFormat(fourcc);
    return f != nullptr ? f->cost : kUnrankedConversionCost;
}

std::optional<FrameRate> pickRate(const RateCaps& caps, FrameRate wanted) {
    if (!caps.discrete.empty()) {
        std::optional<FrameRate> below;  // fastest rate not above the request
        std::optional<FrameRate> above;  // slowest rate above it
        for (const FrameRate& r : caps.discrete) {
            if (!r.valid()) {
                continue;
            }
            if (compareRates(r, wanted) <= 0) {
                if (!below || compareRates(r, *below) > 0) {
                    below = r;
                }
            } else if (!above || compareRates(r, *above) < 0) {
                above = r;
            }
        }
        if (below) {
            return below;
        }
        return above;
    }
    if (caps.slowest && caps.fastest) {
        if (compareRates(wanted, *caps.fastest) > 0) {
            return caps.fastest;
        }
        if (compareRates(wanted, *caps.slowest) < 0) {
            return caps.slowest;
        }
        return wanted;  // a stepwise range: the driver rounds to its step, read back after
    }
    return std::nullopt;
}

std::string formatRate(FrameRate rate) {
    if (!rate.valid()) {
        return "?";
    }
    const int64_t g = gcd64(rate.num, rate.den);
    const int64_t num = rate.num / g;
    const int64_t den = rate.den / g;
    if (den == 1) {
        return std::to_string(num);
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", rate.fps());
    std::string s = text;
    while (!s.empty() && s.back() == '0') {
        s.pop_back();
    }
    if (!s.empty() && s.back() == '.') {
        s.pop_back();
    }
    return s;
}

Result<FormatChoice> negotiateFormat(const std::vector<CameraFormatDesc>& formats,
                                     const NegotiationRequest& request,
                                     const CanConvert& canConvert) {
    FormatChoice result;
    const int w = request.width;
    const int h = request.height;
    const FrameRate wanted = request.rate.valid() ? request.rate : FrameRate{30, 1};

    // Formats we could take at all (before looking at sizes).
    std::vector<const CameraFormatDesc*> usable;
    for (const CameraFormatDesc& f : formats) {
        if (request.fourcc != 0 && f.fourcc != request.fourcc) {
            continue;
        }
        if (conversionCost(f.fourcc, canConvert)) {
            usable.push_back(&f);
        }
    }

    if (request.fourcc != 0 && usable.empty()) {
        const bool offered = std::any_of(formats.begin(), formats.end(),
                                         [&](const auto& f) { return f.fourcc == request.fourcc; });
        if (!offered) {
            std::string list;
            for (const CameraFormatDesc& f : formats) {
                if (conversionCost(f.fourcc, canConvert)) {
                    appendItem(list, " ", fourccToString(f.fourcc));
                }
            }
            return Error{kExitFormat, "the device does not offer pixel format " +
                                          fourccToString(request.fourcc) + " (usable here: " +
                                          (list.empty() ? "none" : list) + "; see --list-formats)"};
        }
        return Error{kExitFormat, "pixel format " + fourccToString(request.fourcc) +
                                      " is offered by the device but h265direct cannot convert it"};
    }
    if (usable.empty()) {
        std::string list;
        for (const CameraFormatDesc& f : formats) {
            appendItem(list, " ", fourccToString(f.fourcc));
        }
        return Error{kExitFormat,
                     "the device offers no pixel format h265direct can convert (it "
                     "offers: " +
                         (list.empty() ? std::string("none") : list) + ")"};
    }

    // Rank: native before emulated; then formats that reach the asked rate; then the
    // conversion cost; then the device's own order (stable sort).
    std::vector<Candidate> candidates;
    for (const CameraFormatDesc* f : usable) {
        Candidate c;
        c.format = f;
        c.cost = *conversionCost(f->fourcc, canConvert);
        if (!f->sizes.empty()) {
            c.size = findSize(*f, w, h);
            if (c.size == nullptr) {
                continue;
            }
            c.rate = pickRate(c.size->rates, wanted);
            if (c.rate) {
                c.reachesRate = compareRates(*c.rate, wanted) >= 0;
            }
        }
        if (f->emulated) {
            costEmulated(c, formats, w, h, wanted, canConvert);
        }
        candidates.push_back(c);
    }
    if (candidates.empty()) {
        return Error{
            kExitFormat,
            "the device cannot capture " + sizeText(w, h) +
                (request.fourcc ? " in " + fourccToString(request.fourcc) : std::string()) +
                "; sizes it offers: " + sizesOffered(usable) + " (choose one with -s)"};
    }
    std::stable_sort(candidates.begin(), candidates.end(), preferred);
    const Candidate& best = candidates.front();

    result.fourcc = best.format->fourcc;
    result.description = best.format->description;
    result.emulated = best.format->emulated;
    result.sourceFourcc = best.source;
    result.cost = best.cost;
    result.reachesRate = best.reachesRate;
    result.width = w;
    result.height = h;
    result.rateKnown = best.rate.has_value();
    result.rate = best.rate.value_or(wanted);
    if (compareRates(result.rate, wanted) == 0) {
        result.rate = wanted;  // the same rate in the driver's units: keep the plain numbers
    }

    if (request.fourcc == 0) {
        std::string why = describe(best) + " chosen: ";
        if (best.rate && best.reachesRate) {
            why += "reaches the " + formatRate(wanted) + " fps asked for at " + sizeText(w, h);
        } else if (best.rate) {
            why += "the fastest offered at " + sizeText(w, h) + " (" + formatRate(*best.rate) +
                   " fps, " + formatRate(wanted) + " asked for)";
        } else {
            why += "the driver lists no rates for it";
        }
        if (best.cost == 0 && !best.format->emulated) {
            why += "; the camera delivers I420, no conversion needed";
        } else {
            const bool alone =
                std::none_of(candidates.begin() + 1, candidates.end(), [&](const Candidate& c) {
                    return c.reachesRate == best.reachesRate &&
                           (!c.rate || !best.rate || compareRates(*c.rate, *best.rate) == 0);
                });
            why += alone ? "; " + costText(best) + " to turn into I420"
                         : "; the cheapest of those to turn into I420 (" + costText(best) + ")";
        }
        if (best.format->emulated) {
            std::string natives;
            for (const CameraFormatDesc& f : formats) {
                if (!f.emulated) {
                    appendItem(natives, " ", fourccToString(f.fourcc));
                }
            }
            why += "; the camera itself offers " +
                   (natives.empty() ? std::string("nothing") : natives);
        }
        result.notes.push_back(why);
        // Say so when a cheaper format was passed over for its rate.
        for (const Candidate& c : candidates) {
            if (c.cost < best.cost && c.rate && best.rate &&
                compareRates(*c.rate, *best.rate) < 0) {
                result.notes.push_back("chosen for its rate over " + describe(c) + " (" +
                                       costText(c) + ", only " + rateReachText(c, w, h) + ")");
                result.passedOver = c.format->fourcc;
                break;
            }
        }
    }
    if (best.rate && compareRates(*best.rate, wanted) != 0) {
        const bool slower = compareRates(*best.rate, wanted) < 0;
        result.notes.push_back(
            "the device offers " + std::string(slower ? "at most " : "no rate up to ") +
            (slower ? formatRate(*best.rate) + " fps" : formatRate(wanted) + " fps") + " for " +
            fourccToString(result.fourcc) + " " + sizeText(w, h) + ": using " +
            formatRate(*best.rate) + " fps instead of the " + formatRate(wanted) +
            " fps asked for");
    }
    return result;
}

std::string choiceText(const std::vector<CameraFormatDesc>& formats,
                       const NegotiationRequest& request, const CanConvert& canConvert) {
    const Result<FormatChoice> chosen = negotiateFormat(formats, request, canConvert);
    const std::string asked =
        sizeText(request.width, request.height) + " at " + formatRate(request.rate) + " fps";
    if (!chosen) {
        return "for " + asked + ": " + chosen.error().message + "\n";
    }
    const FormatChoice& r = chosen.value();
    std::string text = "for " + asked + " h265direct would capture " + fourccToString(r.fourcc) +
                       (r.emulated ? " (converted by libv4l2)" : "") + " at " + formatRate(r.rate) +
                       " fps\n";
    if (request.fourcc != 0) {
        text +=
            "  forced with --pixel-format; cost " + std::to_string(r.cost) + " to turn into I420\n";
    }
    for (const std::string& note : r.notes) {
        text += "  " + note + "\n";
    }
    return text;
}

}  // namespace h265direct
