// SPDX-License-Identifier: GPL-2.0-or-later
#include <cstdio>

#include "app/options.hpp"
#include "app/version.hpp"
#include "capture/v4l2_camera.hpp"
#include "capture/v4l2_controls.hpp"
#include "core/log.hpp"
#include "h265direct/engine.hpp"

int main(int argc, char** argv) {
    using namespace h265direct;
    AppOptions options;
    if (int rc = parseOptions(argc, argv, options, versionDetails); rc >= 0) {
        return rc;
    }
    if (options.engine.stats.quiet) {
        setLogLevel(LogLevel::Error);
    } else if (options.verbosity >= 2) {
        setLogLevel(LogLevel::Debug);
    }
    if (options.engine.source.camera.listControls) {
        return listCameraControls(options.engine.source.path, stdout);
    }
    if (options.engine.source.camera.listFormats) {
        return listCameraFormats(options.engine.source.path, stdout, &options.engine.source);
    }
    Engine engine(options.engine);
    engine.stopOnSignals();
    return engine.run();
}
