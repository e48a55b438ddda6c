#include "app/camera_options.hpp"

#include <string>

namespace h265direct {

void addCameraOptions(CLI::App& app, SourceConfig& config) {
    CameraConfig& cam = config.camera;
    CLI::App* group = app.add_option_group("Camera (-d DEVICE)");
    group
        ->add_option("--buffers", cam.buffers,
                     "Capture buffers shared with the driver (mmap); more ride out short "
                     "stalls, fewer keep memory low")
        ->default_val(cam.buffers)
        ->check(CLI::Range(2u, 32u));
    group->add_flag("--exit-on-device-loss", cam.exitOnDeviceLoss,
                    "Exit (code 7) when the camera goes away, instead of keeping the outputs up "
                    "and reopening it when it returns");
    group
        ->add_option("--frame-timeout", cam.frameTimeoutMs,
                     "Milliseconds without a frame before it is reported (the run goes on)")
        ->default_val(cam.frameTimeoutMs)
        ->check(CLI::Range(100, 600000));
    group->add_flag("--list-formats", cam.listFormats,
                    "Print the formats, sizes and frame rates the device offers, which of them "
                    "h265direct uses, and exit");
}

}  // namespace h265direct
