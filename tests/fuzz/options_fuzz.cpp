// SPDX-License-Identifier: GPL-2.0-or-later
// h265direct's command line, through its entry point parseOptions(argc, argv, options):
// any argument list either goes on (-1) with a configuration inside the documented ranges
// and nothing printed, prints help/version/--print-config on stdout (0; --print-config's one
// note on stderr when it masked secrets), or is refused with exactly one
// line on stderr naming the program (2, kExitUsage) -- never a crash, an exception or
// another code.
//
// Input: the arguments, separated by newlines (so no argument holds one).

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "app/options.hpp"
#include "fuzz_check.hpp"

using namespace h265direct;

namespace {

// What a call printed: stdout and stderr go to memory files while it runs.
class Capture {
public:
    Capture() {
        for (int i = 0; i < 2; ++i) {
            mem_[i] = memfd_create(i == 0 ? "fuzz-stdout" : "fuzz-stderr", 0);
            FUZZ_CHECK(mem_[i] >= 0);
            saved_[i] = dup(i + 1);
        }
    }
    void begin() {
        std::fflush(stdout);
        std::fflush(stderr);
        for (int i = 0; i < 2; ++i) {
            FUZZ_CHECK(ftruncate(mem_[i], 0) == 0 && lseek(mem_[i], 0, SEEK_SET) == 0);
            dup2(mem_[i], i + 1);
        }
    }
    void end(std::string& out, std::string& err) {
        std::fflush(stdout);
        std::fflush(stderr);
        for (int i = 0; i < 2; ++i) {
            dup2(saved_[i], i + 1);
            std::string& text = i == 0 ? out : err;
            text.clear();
            const off_t n = lseek(mem_[i], 0, SEEK_END);
            text.resize(static_cast<size_t>(n));
            FUZZ_CHECK(pread(mem_[i], text.data(), text.size(), 0) == n);
        }
    }

private:
    int mem_[2] = {-1, -1};
    int saved_[2] = {-1, -1};
};

struct Outcome {
    int rc = 0;
    std::string out, err;
    AppOptions options;
};

Outcome parse(const std::vector<std::string>& args) {
    static Capture capture;
    std::vector<std::string> copy = args;  // the parser may keep pointers into argv
    std::vector<char*> argv;
    for (std::string& a : copy) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    Outcome o;
    capture.begin();
    o.rc = parseOptions(static_cast<int>(copy.size()), argv.data(), o.options);
    capture.end(o.out, o.err);
    return o;
}

void checkConfig(const EngineConfig& c) {
    const SourceConfig& s = c.source;
    FUZZ_CHECK(s.width > 0 && s.height > 0 && s.width <= 8192 && s.height <= 4320);
    FUZZ_CHECK(s.width % 2 == 0 && s.height % 2 == 0);
    FUZZ_CHECK(s.fpsNum > 0 && s.fpsDen > 0);
    const double fps = static_cast<double>(s.fpsNum) / s.fpsDen;
    FUZZ_CHECK(fps >= 1 && fps <= 240);
    FUZZ_CHECK(c.encoder.bitrateKbps >= 10 && c.encoder.bitrateKbps <= 1000000);
    FUZZ_CHECK((c.encoder.vbvMaxrateKbps > 0) == (c.encoder.vbvBufsizeKbit > 0));
    FUZZ_CHECK(c.encoder.threads >= 0 && c.encoder.threads <= 256);
    FUZZ_CHECK(c.encoder.keyint >= 0);
    FUZZ_CHECK(c.durationSec >= 0);
    FUZZ_CHECK(s.kind != SourceKind::File || (!s.path.empty() && s.fourcc != 0));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::vector<std::string> args = {"h265direct"};
    std::string cur;
    for (size_t i = 0; i < size && args.size() < 64; ++i) {
        if (data[i] == '\n') {
            args.push_back(cur);
            cur.clear();
        } else if (data[i] != '\0') {  // a C argument ends at its first NUL
            cur.push_back(static_cast<char>(data[i]));
        }
    }
    if (size > 0 && args.size() < 64) {
        args.push_back(cur);
    }

    const Outcome o = parse(args);
    FUZZ_CHECK(o.rc == -1 || o.rc == 0 || o.rc == kExitUsage);
    if (o.rc == kExitUsage) {
        FUZZ_CHECK(o.out.empty());
        FUZZ_CHECK(o.err.rfind("h265direct: ", 0) == 0);
        FUZZ_CHECK(o.err.size() > 12 && o.err.find('\n') == o.err.size() - 1);
    } else if (o.rc == 0) {
        // --print-config may add one note: how many secrets it printed as ***.
        FUZZ_CHECK(!o.out.empty());
        FUZZ_CHECK(o.err.empty() || (o.err.rfind("h265direct: note: --print-config hid ", 0) == 0 &&
                                     o.err.find('\n') == o.err.size() - 1));
    } else {
        FUZZ_CHECK(o.out.empty() && o.err.empty());
        checkConfig(o.options.engine);
    }
    return 0;
}
