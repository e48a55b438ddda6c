#include "app/options.hpp"
#include "core/log.hpp"
#include "h265direct/engine.hpp"

int main(int argc, char** argv) {
    using namespace h265direct;
    AppOptions options;
    if (int rc = parseOptions(argc, argv, options); rc >= 0) {
        return rc;
    }
    if (options.engine.stats.quiet) {
        setLogLevel(LogLevel::Error);
    } else if (options.verbosity >= 2) {
        setLogLevel(LogLevel::Debug);
    }
    Engine engine(options.engine);
    engine.stopOnSignals();
    return engine.run();
}
