// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture/file_source.hpp"
#include "capture/frame_source.hpp"
#include "capture/pattern_source.hpp"
#include "capture/v4l2_camera.hpp"
#include "core/error.hpp"

namespace h265direct {

std::unique_ptr<FrameSource> openSource(const SourceConfig& config) {
    switch (config.kind) {
        case SourceKind::Pattern:
            return openPatternSource(config);
        case SourceKind::File:
            return openFileSource(config);
        case SourceKind::Camera:
            return openV4l2Camera(config);
    }
    throw StartupError(kExitUsage, "unknown source kind");
}

}  // namespace h265direct
