// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstdio>
#include <string>
#include <vector>

#include "capture/format_negotiation.hpp"
#include "capture/v4l2_camera.hpp"
#include "capture/v4l2_device.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text.hpp"
#include "frame/pixel_format.hpp"

namespace h265direct {

namespace {

bool canConvert(uint32_t fourcc) {
    return findPixelFormat(fourcc) != nullptr;
}

std::string ratesText(const RateCaps& caps) {
    if (!caps.discrete.empty()) {
        std::string text;
        for (const FrameRate& r : caps.discrete) {
            appendItem(text, ", ", formatRate(r));
        }
        return text + " fps";
    }
    if (caps.slowest && caps.fastest) {
        return formatRate(*caps.slowest) + " to " + formatRate(*caps.fastest) + " fps";
    }
    return "rates not listed by the driver";
}

std::string usageText(const CameraFormatDesc& f, const std::vector<CameraFormatDesc>& all) {
    const auto cost = conversionCost(f.fourcc, canConvert);
    if (f.emulated) {
        return cost ? "emulated by libv4l2 — used when no cheaper format reaches the rate"
                    : "emulated by libv4l2 — not supported by h265direct";
    }
    if (cost) {
        return *cost == 0 ? "native — used by h265direct as is (I420, no conversion)"
                          : "native — used by h265direct (converted to I420)";
    }
    bool decodedByLibv4l2 = false;
    for (const CameraFormatDesc& g : all) {
        decodedByLibv4l2 = decodedByLibv4l2 || (g.emulated && canConvert(g.fourcc));
    }
    if (f.compressed) {
        return decodedByLibv4l2 ? "native, compressed — not used directly (libv4l2 decodes it "
                                  "into the emulated formats)"
                                : "native, compressed — not supported by h265direct";
    }
    return "native — not supported by h265direct";
}

}  // namespace

int listCameraFormats(const std::string& device, FILE* out, const SourceConfig* request) {
    try {
        const V4l2Device dev = openCaptureDevice(device);
        const std::vector<CameraFormatDesc> formats =
            request ? dev.enumerateFormats(request->width, request->height)
                    : dev.enumerateFormats();
        std::fprintf(out, "%s: %s (driver %s, bus %s)\n", device.c_str(), dev.card().c_str(),
                     dev.driver().c_str(), dev.busInfo().c_str());
        std::fprintf(out, "capabilities: %s\n", capabilityText(dev.caps()).c_str());
        std::fprintf(out, "%zu formats:\n", formats.size());
        for (const CameraFormatDesc& f : formats) {
            std::fprintf(out, "  %-4s  %-30s  %s\n", fourccToString(f.fourcc).c_str(),
                         f.description.c_str(), usageText(f, formats).c_str());
            if (f.sizes.empty()) {
                std::fprintf(out, "        sizes not listed by the driver\n");
            }
            for (const SizeCaps& s : f.sizes) {
                if (s.range) {
                    std::fprintf(out, "        %dx%d to %dx%d, steps %dx%d\n", s.width, s.height,
                                 s.maxWidth, s.maxHeight, s.stepWidth, s.stepHeight);
                } else {
                    std::fprintf(out, "        %dx%d: %s\n", s.width, s.height,
                                 ratesText(s.rates).c_str());
                }
            }
        }
        if (request != nullptr) {
            NegotiationRequest req;
            req.fourcc = request->fourcc;
            req.width = request->width;
            req.height = request->height;
            req.rate = FrameRate{request->fpsNum, request->fpsDen};
            std::fputs(choiceText(formats, req, canConvert).c_str(), out);
        }
        std::fflush(out);
        return kExitOk;
    } catch (const StartupError& e) {
        printError(e.what());
        return e.exitCode();
    }
}

}  // namespace h265direct
