// Stands in for the V4L2 camera until it is built; removed when it arrives.
#include "capture/v4l2_camera.hpp"
#include "core/error.hpp"

namespace h265direct {

std::unique_ptr<FrameSource> openV4l2Camera(const SourceConfig& config) {
    throw StartupError(kExitInput, config.path + ": camera support missing");
}

}  // namespace h265direct
