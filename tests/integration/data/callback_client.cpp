// A program built against the installed library only: it runs the engine on the built-in
// pattern and prints one line per access unit handed to its callback, writing the bytes to
// the file named by its first argument.
#include <h265direct/engine.hpp>

#include <cstdio>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: callback_client OUT.h265\n");
        return 2;
    }
    std::FILE* out = std::fopen(argv[1], "wb");
    if (out == nullptr) {
        return 3;
    }
    h265direct::EngineConfig config;
    config.source.kind = h265direct::SourceKind::Pattern;
    config.source.width = 320;
    config.source.height = 240;
    config.source.pace = false;
    config.encoder.keyint = 10;
    config.maxFrames = 50;
    config.stats.quiet = true;
    h265direct::Engine engine(config);
    engine.onAccessUnit([out](const h265direct::AccessUnitPtr& au) {
        std::printf("au %llu pts %lld key %d idr %d ps %d nals %zu bytes %zu\n",
                    static_cast<unsigned long long>(au->frameNumber),
                    static_cast<long long>(au->pts), au->keyframe ? 1 : 0, au->idr ? 1 : 0,
                    au->hasParameterSets ? 1 : 0, au->nals.size(), au->bytes().size());
        std::fwrite(au->bytes().data(), 1, au->bytes().size(), out);
    });
    const int rc = engine.run();
    std::fclose(out);
    return rc;
}
