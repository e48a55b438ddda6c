// SPDX-License-Identifier: GPL-2.0-or-later
#include "app/camera_options.hpp"

#include <string>
#include <utility>
#include <vector>

#include "capture/v4l2_controls.hpp"

namespace h265direct {

void addCameraOptions(cli::Parser& parser, SourceConfig& config) {
    CameraConfig& cam = config.camera;
    parser.group("Camera (-d DEVICE)");
    parser.option("--buffers", "N",
                  "Capture buffers shared with the driver (mmap), 2..32; more ride out short "
                  "stalls, fewer keep memory low",
                  std::to_string(cam.buffers), cli::integer(cam.buffers, 2, 32));
    parser.flag("--exit-on-device-loss", cam.exitOnDeviceLoss,
                "Exit (code 7) when the camera goes away, instead of keeping the outputs up "
                "and reopening it when it returns");
    parser.option("--frame-timeout", "MS",
                  "Milliseconds without a frame before it is reported (the run goes on), "
                  "100..600000",
                  std::to_string(cam.frameTimeoutMs),
                  cli::integer(cam.frameTimeoutMs, 100, 600000));
    parser.option("--ctrl", "NAME=VALUE[,...]",
                  "Set camera controls before streaming, and again when the device returns, "
                  "by the names --list-controls prints (those of v4l2-ctl): "
                  "--ctrl brightness=200,power_line_frequency=1; a menu control also takes "
                  "its entry's name",
                  "", [&cam](const std::string& value) {
                      Result<std::vector<CameraControl>> parsed = parseControlList(value);
                      if (!parsed) {
                          throw cli::UsageError{parsed.error().message};
                      }
                      cam.controls = std::move(parsed).value();
                  });
    parser.flag("--list-controls", cam.listControls,
                "Print the device's controls (name, type, range, default, current value, menu "
                "entries) and exit");
    parser.flag("--list-formats", cam.listFormats,
                "Print the formats, sizes and frame rates the device offers, which of them "
                "h265direct uses, and exit");
}

}  // namespace h265direct
