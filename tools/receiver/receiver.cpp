// h265direct-receiver: the other end of h265direct's TCP output, for checking a camera from a
// desk. Listens (-l, for h265direct -t) or connects (-c, for h265direct -l), reads the length
// framing (or raw Annex-B), checks every access unit with the project's own splitter, writes
// the Annex-B stream to a file or stdout and prints per-second figures on stderr.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "app/cmdline.hpp"
#include "core/clock.hpp"
#include "core/unique_fd.hpp"
#include "h265direct/annexb.hpp"
#include "h265direct/config.hpp"
#include "net/address.hpp"
#include "net/framing.hpp"

namespace h265direct {
namespace {

volatile sig_atomic_t gStop = 0;

void onSignal(int) {
    gStop = 1;
}

struct Options {
    std::string listen;
    std::string connect;
    std::string output;
    Framing framing = Framing::Length;
    uint64_t count = 0;
    bool once = false;
    bool quiet = false;
};

struct Totals {
    uint64_t frames = 0;
    uint64_t keyframes = 0;
    uint64_t bad = 0;
    uint64_t bytes = 0;  // payload (Annex-B) bytes
    uint64_t connections = 0;
    uint64_t streamErrors = 0;
};

class Receiver {
public:
    Receiver(Options o, FILE* out) : opt_(std::move(o)), out_(out) {}

    // Returns an exit code.
    int run();

private:
    int listenLoop();
    int connectOnce();
    // Reads one connection to its end. False: stop everything (count reached, stop, output).
    bool serve(int fd);
    bool onAccessUnit(std::vector<uint8_t>& bytes);
    void onAnnexB(std::span<const uint8_t> bytes, bool end);
    void check(const AccessUnit& au, hevc::ParseError err);
    bool write(std::span<const uint8_t> bytes);
    void tick(bool force);
    bool done() const {
        return gStop || outputFailed_ || (opt_.count > 0 && t_.frames >= opt_.count);
    }

    Options opt_;
    FILE* out_;
    Totals t_;
    Totals last_;
    int64_t lastTickNs_ = monotonicNs();
    bool firstOfConnection_ = true;
    bool outputFailed_ = false;
    AccessUnit au_;
    hevc::AccessUnitAssembler assembler_;
};

bool Receiver::write(std::span<const uint8_t> bytes) {
    if (out_ == nullptr || bytes.empty()) {
        return true;
    }
    if (fwrite(bytes.data(), 1, bytes.size(), out_) != bytes.size() || fflush(out_) != 0) {
        if (!outputFailed_) {
            fprintf(stderr, "h265direct-receiver: writing the output failed: %s\n",
                    strerror(errno));
        }
        outputFailed_ = true;
        return false;
    }
    return true;
}

void Receiver::check(const AccessUnit& au, hevc::ParseError err) {
    std::string problem;
    if (err != hevc::ParseError::None) {
        problem = std::string("not one valid access unit: ") + hevc::toString(err);
    } else if (firstOfConnection_ && !(au.keyframe && au.hasParameterSets)) {
        problem = "the connection does not start with VPS/SPS/PPS and a keyframe";
    }
    firstOfConnection_ = false;
    t_.keyframes += err == hevc::ParseError::None && au.keyframe ? 1 : 0;
    if (!problem.empty()) {
        ++t_.bad;
        if (t_.bad <= 10) {
            fprintf(stderr, "h265direct-receiver: access unit %llu (%zu bytes): %s\n",
                    static_cast<unsigned long long>(t_.frames), au.data.size(), problem.c_str());
        }
    }
}

bool Receiver::onAccessUnit(std::vector<uint8_t>& bytes) {
    ++t_.frames;
    t_.bytes += bytes.size();
    au_.data.swap(bytes);
    // The project's own parser: whole NAL units, exactly one access unit, a picture in it.
    check(au_, hevc::describeAccessUnit(au_));
    const bool ok = write(au_.data);
    au_.data.swap(bytes);
    return ok;
}

void Receiver::onAnnexB(std::span<const uint8_t> bytes, bool end) {
    // No boundaries on the wire: the project's assembler finds the access units.
    std::vector<AccessUnit> units;
    const hevc::ParseError err = end ? assembler_.finish(units) : assembler_.push(bytes, units);
    for (AccessUnit& au : units) {
        ++t_.frames;
        check(au, hevc::ParseError::None);
        assembler_.recycle(std::move(au));
    }
    if (err != hevc::ParseError::None) {
        ++t_.bad;
        if (t_.bad <= 10) {
            fprintf(stderr, "h265direct-receiver: after access unit %llu: %s\n",
                    static_cast<unsigned long long>(t_.frames), hevc::toString(err));
        }
    }
}

void Receiver::tick(bool force) {
    const int64_t now = monotonicNs();
    if (!force && now - lastTickNs_ < 1'000'000'000) {
        return;
    }
    const double s = static_cast<double>(now - lastTickNs_) / 1e9;
    if (!opt_.quiet && s > 0) {
        fprintf(stderr,
                "[receiver] %.1f fps | %.0f kbit/s | frames %llu | keyframes %llu | bad %llu | "
                "connections %llu\n",
                static_cast<double>(t_.frames - last_.frames) / s,
                static_cast<double>(t_.bytes - last_.bytes) * 8 / 1000 / s,
                static_cast<unsigned long long>(t_.frames),
                static_cast<unsigned long long>(t_.keyframes),
                static_cast<unsigned long long>(t_.bad),
                static_cast<unsigned long long>(t_.connections));
    }
    last_ = t_;
    lastTickNs_ = now;
}

bool Receiver::serve(int fd) {
    ++t_.connections;
    firstOfConnection_ = true;
    assembler_.reset();
    net::LengthDeframer deframer;
    std::vector<uint8_t> buf(1 << 16);
    std::vector<uint8_t> frame;
    while (!done()) {
        pollfd p{fd, POLLIN, 0};
        const int n = poll(&p, 1, 200);
        tick(false);
        if (n <= 0) {
            continue;
        }
        const ssize_t got = ::read(fd, buf.data(), buf.size());
        if (got == 0) {
            break;
        }
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, "h265direct-receiver: connection lost: %s\n", strerror(errno));
            ++t_.streamErrors;
            break;
        }
        const std::span<const uint8_t> bytes(buf.data(), static_cast<size_t>(got));
        if (opt_.framing == Framing::AnnexB) {
            t_.bytes += bytes.size();
            onAnnexB(bytes, false);
            write(bytes);
            continue;
        }
        deframer.feed(bytes);
        while (!done() && deframer.next(frame)) {
            onAccessUnit(frame);
        }
        if (deframer.failed()) {
            fprintf(stderr, "h265direct-receiver: not the length framing: %s\n",
                    deframer.error().c_str());
            ++t_.streamErrors;
            break;
        }
    }
    if (opt_.framing == Framing::AnnexB) {
        onAnnexB({}, true);
    }
    if (opt_.framing == Framing::Length && deframer.pending() > 0 && !done()) {
        fprintf(stderr, "h265direct-receiver: the connection ended inside a frame (%zu bytes)\n",
                deframer.pending());
    }
    return !done();
}

int Receiver::listenLoop() {
    net::Endpoint ep;
    if (std::string err = net::parseEndpoint(opt_.listen, true, ep); !err.empty()) {
        fprintf(stderr, "h265direct-receiver: -l: %s\n", err.c_str());
        return kExitUsage;
    }
    std::vector<net::SocketAddress> addrs;
    if (std::string err = net::listenAddresses(ep, addrs); !err.empty()) {
        fprintf(stderr, "h265direct-receiver: -l: %s\n", err.c_str());
        return kExitUsage;
    }
    UniqueFd lfd(::socket(addrs[0].family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int one = 1, zero = 0;
    setsockopt(lfd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (addrs[0].family() == AF_INET6) {
        setsockopt(lfd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    if (!lfd || ::bind(lfd.get(), addrs[0].get(), addrs[0].length) != 0 ||
        ::listen(lfd.get(), 4) != 0) {
        fprintf(stderr, "h265direct-receiver: -l %s: cannot listen: %s\n", opt_.listen.c_str(),
                strerror(errno));
        return kExitNetwork;
    }
    if (!opt_.quiet) {
        fprintf(stderr, "[receiver] listening on %s\n", addrs[0].toString().c_str());
    }
    while (!done()) {
        pollfd p{lfd.get(), POLLIN, 0};
        const int n = poll(&p, 1, 200);
        tick(false);
        if (n <= 0) {
            continue;
        }
        net::SocketAddress from;
        from.length = sizeof from.storage;
        UniqueFd fd(::accept4(lfd.get(), from.get(), &from.length, SOCK_CLOEXEC));
        if (!fd) {
            continue;
        }
        if (!opt_.quiet) {
            fprintf(stderr, "[receiver] sender connected from %s\n", from.toString().c_str());
        }
        const bool goOn = serve(fd.get());
        if (!opt_.quiet) {
            fprintf(stderr, "[receiver] sender %s left\n", from.toString().c_str());
        }
        if (!goOn || opt_.once) {
            break;
        }
    }
    return kExitOk;
}

int Receiver::connectOnce() {
    net::Endpoint ep;
    if (std::string err = net::parseEndpoint(opt_.connect, false, ep); !err.empty()) {
        fprintf(stderr, "h265direct-receiver: -c: %s\n", err.c_str());
        return kExitUsage;
    }
    std::vector<net::SocketAddress> addrs;
    if (std::string err = net::resolveEndpoint(ep, false, addrs); !err.empty()) {
        fprintf(stderr, "h265direct-receiver: -c: %s\n", err.c_str());
        return kExitUsage;
    }
    std::string lastError;
    for (const net::SocketAddress& a : addrs) {
        UniqueFd fd(::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (fd && ::connect(fd.get(), a.get(), a.length) == 0) {
            if (!opt_.quiet) {
                fprintf(stderr, "[receiver] connected to %s\n", a.toString().c_str());
            }
            serve(fd.get());
            return kExitOk;
        }
        lastError = a.toString() + ": " + strerror(errno);
    }
    fprintf(stderr, "h265direct-receiver: -c: cannot connect to %s\n", lastError.c_str());
    return kExitNetwork;
}

int Receiver::run() {
    const int rc = opt_.listen.empty() ? connectOnce() : listenLoop();
    if (rc != kExitOk) {
        return rc;
    }
    tick(true);
    if (!opt_.quiet) {
        fprintf(stderr,
                "[receiver] total: frames %llu | keyframes %llu | bad %llu | %llu bytes | "
                "connections %llu\n",
                static_cast<unsigned long long>(t_.frames),
                static_cast<unsigned long long>(t_.keyframes),
                static_cast<unsigned long long>(t_.bad), static_cast<unsigned long long>(t_.bytes),
                static_cast<unsigned long long>(t_.connections));
    }
    if (outputFailed_) {
        return kExitOutput;
    }
    return t_.bad > 0 || t_.streamErrors > 0 ? kExitFailure : kExitOk;
}

}  // namespace
}  // namespace h265direct

int main(int argc, char** argv) {
    using namespace h265direct;
    Options o;
    cli::Parser p("h265direct-receiver",
                  "h265direct-receiver: receives h265direct's TCP stream, checks every access "
                  "unit and writes the H.265 Annex-B stream.\nExit code: 0 all good, 1 a bad "
                  "access unit or stream, 2 bad option, 8 cannot listen/connect, 9 output "
                  "failed.");
    p.option("-l,--listen", "[HOST:]PORT",
             "Wait for h265direct -t on [HOST:]PORT; serves one sender after another (each "
             "connection restarts the stream)",
             "", cli::text(o.listen));
    p.option("-c,--connect", "HOST:PORT", "Connect to h265direct -l at HOST:PORT", "",
             cli::text(o.connect));
    p.excludes("--listen", "--connect");
    p.option("-o,--output", "FILE", "Write the Annex-B stream to FILE ('-' = stdout)", "",
             cli::text(o.output));
    p.option("--framing", "length|annexb",
             "Wire format: length, or annexb (the raw stream; access units are found by the "
             "project's assembler)",
             "length", cli::oneOf({"length", "annexb"}, [&o](const std::string& v) {
                 o.framing = v == "annexb" ? Framing::AnnexB : Framing::Length;
             }));
    p.option("-n,--count", "N", "Stop after N access units (0 = no limit)", "0",
             cli::integer(o.count, 0, 1LL << 40));
    p.flag("--once", o.once, "-l: stop when the first sender leaves");
    p.flag("-q,--quiet", o.quiet, "No per-second stats");
    p.check([&o] {
        if (o.listen.empty() && o.connect.empty()) {
            throw cli::UsageError{"give -l [HOST:]PORT or -c HOST:PORT"};
        }
    });
    if (const int rc = p.parse(argc, argv); rc >= 0) {
        return rc;
    }
    FILE* out = nullptr;
    if (o.output == "-") {
        out = stdout;
    } else if (!o.output.empty()) {
        out = fopen(o.output.c_str(), "wb");
        if (out == nullptr) {
            fprintf(stderr, "h265direct-receiver: -o %s: %s\n", o.output.c_str(), strerror(errno));
            return kExitOutput;
        }
    }
    struct sigaction sa {};
    sa.sa_handler = onSignal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    const int rc = Receiver(o, out).run();
    if (out != nullptr && out != stdout) {
        fclose(out);
    }
    return rc;
}
