// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture/camera_identity.hpp"

#include <cctype>

namespace h265direct {

std::optional<std::string> findCamera(const CameraIdentity& wanted,
                                      const std::vector<VideoNode>& nodes) {
    if (!wanted.searchable()) {
        return std::nullopt;
    }
    for (const VideoNode& node : nodes) {
        if (node.canCapture && node.identity == wanted) {
            return node.path;
        }
    }
    return std::nullopt;
}

int videoNodeNumber(const std::string& path) {
    const std::string prefix = "video";
    const size_t slash = path.rfind('/');
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
        name.size() > prefix.size() + 6) {
        return -1;
    }
    int n = 0;
    for (size_t i = prefix.size(); i < name.size(); ++i) {
        if (std::isdigit(static_cast<unsigned char>(name[i])) == 0) {
            return -1;
        }
        n = n * 10 + (name[i] - '0');
    }
    return n;
}

}  // namespace h265direct
