// SPDX-License-Identifier: GPL-2.0-or-later
// h265direct-receiver: the other end of h265direct's TCP output, for checking a camera from a
// desk. Listens (-l, for h265direct -t) or connects (-c, for h265direct -l), reads the length
// framing (or raw Annex-B), checks every access unit with the project's own parser, writes the
// ones that pass as Annex-B to a file or stdout (the others are counted and reported) and
// prints per-second figures on stderr. One file (about 550 lines): a program of its own, whose
// options, connection handling, checks and figures share its one state.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "app/cmdline.hpp"
#include "core/clock.hpp"
#include "core/unique_fd.hpp"
#include "h265direct/annexb.hpp"
#include "h265direct/config.hpp"
#include "hevc/start_code.hpp"
#include "net/address.hpp"
#include "net/framing.hpp"

namespace h265direct {
namespace {

// The stream ended inside an access unit (a cut connection): distinct from a bad stream.
constexpr int kExitCut = 10;

volatile sig_atomic_t gStop = 0;
int gStopFd = -1;  // eventfd written by the signal handler: every wait also waits on it

void onSignal(int) {
    gStop = 1;
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(gStopFd, &one, sizeof one);
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
    uint64_t frames = 0;     // access units received, good or not (numbered from 1)
    uint64_t keyframes = 0;  // good keyframes
    uint64_t bad = 0;        // access units that failed the check
    uint64_t dropped = 0;    // access units not written (the bad ones and those that wait
                             // for a keyframe after one)
    uint64_t bytes = 0;      // payload (Annex-B) bytes
    uint64_t connections = 0;
    uint64_t streamErrors = 0;
    uint64_t cut = 0;      // connections that ended inside an access unit
    uint64_t refused = 0;  // connections refused while a sender was streaming
};

// A sender that has sent nothing for this long is taken for gone: a new connection replaces
// it. One that is streaming is kept, and a second sender is refused meanwhile.
constexpr int64_t kSenderSilentNs = 5'000'000'000;

// One sender's connection.
struct Connection {
    UniqueFd fd;
    std::string name;
    uint64_t bytesIn = 0;
    int64_t lastByteNs = 0;  // when it last sent a byte
    net::LengthDeframer deframer;
};

class Receiver {
public:
    Receiver(Options o, FILE* out) : opt_(std::move(o)), out_(out) {}

    // Returns an exit code.
    int run();

private:
    int listenLoop();
    int connectOnce();
    // Serves connections until the end: `conn` (may be empty) and, when lfd >= 0, newer
    // senders accepted on lfd, each replacing the current one.
    void serve(int lfd, std::unique_ptr<Connection> conn);
    void begin(Connection& c);
    // Reads what is there. False: the connection ended (reported).
    bool readFrom(Connection& c);
    enum class End { Closed, Lost, Replaced, Stopped };
    void end(Connection& c, End how, int err = 0);
    void onAccessUnit(std::vector<uint8_t>& bytes);
    void onAnnexB(std::span<const uint8_t> bytes, bool end);
    void assemble(std::span<const uint8_t> piece, bool end);
    // A stream-level error (no access unit to name): before / after access unit N.
    void report(hevc::ParseError err, uint64_t skipped);
    std::string position() const;
    // Checks one access unit; writes it when good. err: the parser's verdict on it.
    void take(AccessUnit& au, hevc::ParseError err);
    void write(std::span<const uint8_t> bytes);
    void tick(bool force);
    int msToNextTick() const;
    bool done() const {
        return gStop || outputFailed_ || (opt_.count > 0 && t_.frames >= opt_.count);
    }

    Options opt_;
    FILE* out_;
    Totals t_;
    Totals last_;
    int64_t lastTickNs_ = monotonicNs();
    bool needKeyframe_ = true;  // nothing written yet on this connection
    bool firstOfConnection_ = true;
    bool outputFailed_ = false;
    AccessUnit au_;
    hevc::AccessUnitAssembler assembler_;
    uint64_t assemblerDropped_ = 0;
    uint64_t assemblerSkipped_ = 0;
    hevc::ParseError unitError_ = hevc::ParseError::None;
    std::vector<AccessUnit> units_;
    std::vector<uint8_t> buf_ = std::vector<uint8_t>(1 << 16);
    std::vector<uint8_t> frame_;
};

void Receiver::write(std::span<const uint8_t> bytes) {
    if (out_ == nullptr || bytes.empty() || outputFailed_) {
        return;
    }
    if (fwrite(bytes.data(), 1, bytes.size(), out_) != bytes.size() || fflush(out_) != 0) {
        fprintf(stderr, "h265direct-receiver: writing the output failed: %s\n", strerror(errno));
        outputFailed_ = true;
    }
}

void Receiver::take(AccessUnit& au, hevc::ParseError err) {
    ++t_.frames;
    std::string problem;
    if (err != hevc::ParseError::None) {
        problem = std::string("not one valid access unit: ") + hevc::toString(err);
    } else if (firstOfConnection_ && !(au.keyframe && au.hasParameterSets)) {
        problem = "the connection does not start with VPS/SPS/PPS and a keyframe";
    }
    firstOfConnection_ = false;
    if (!problem.empty()) {
        ++t_.bad;
        ++t_.dropped;
        needKeyframe_ = true;  // what follows may refer to it
        if (t_.bad <= 10) {
            fprintf(stderr, "h265direct-receiver: access unit %llu (%zu bytes): %s; dropped\n",
                    static_cast<unsigned long long>(t_.frames), au.data.size(), problem.c_str());
        }
        return;
    }
    if (needKeyframe_ && !(au.keyframe && au.hasParameterSets)) {
        ++t_.dropped;  // cannot be decoded without what was dropped before it
        return;
    }
    needKeyframe_ = false;
    t_.keyframes += au.keyframe ? 1 : 0;
    write(au.data);
}

void Receiver::onAccessUnit(std::vector<uint8_t>& bytes) {
    t_.bytes += bytes.size();
    au_.data.swap(bytes);
    // The project's own parser: whole NAL units, exactly one access unit, a picture in it.
    const hevc::ParseError err = hevc::describeAccessUnit(au_);
    take(au_, err);
    au_.data.swap(bytes);
}

void Receiver::onAnnexB(std::span<const uint8_t> bytes, bool end) {
    t_.bytes += bytes.size();
    // No boundaries on the wire: the project's assembler finds the access units and never
    // emits the ones it refuses. Fed one NAL unit at a time, so that at most one access unit
    // closes per call: refused units are numbered in stream order with the others.
    static const hevc::detail::FindStartCodeFn find = hevc::detail::bestFindStartCode();
    const uint8_t* p = bytes.data();
    const uint8_t* const stop = p + bytes.size();
    while (p < stop) {
        const uint8_t* next = stop - p > 4 ? find(p + 1, stop) : stop;
        assemble(std::span<const uint8_t>(p, next), false);
        p = next;
    }
    if (end) {
        assemble({}, true);
    }
}

void Receiver::assemble(std::span<const uint8_t> piece, bool end) {
    units_.clear();
    const uint64_t errorsBefore = assembler_.counters().errors;
    const hevc::ParseError err = end ? assembler_.finish(units_) : assembler_.push(piece, units_);
    const auto& c = assembler_.counters();
    if (err != hevc::ParseError::None && c.errors > errorsBefore) {
        ++t_.streamErrors;
        if (err == hevc::ParseError::NoStartCode) {
            report(err, c.bytesSkipped - assemblerSkipped_);
        } else {
            unitError_ = err;  // reported when its access unit is refused
        }
    }
    assemblerSkipped_ = c.bytesSkipped;
    for (AccessUnit& au : units_) {
        if (!done()) {
            take(au, hevc::ParseError::None);
        }
        assembler_.recycle(std::move(au));
    }
    for (; assemblerDropped_ < c.droppedAccessUnits; ++assemblerDropped_) {
        ++t_.frames;
        ++t_.bad;
        ++t_.dropped;
        needKeyframe_ = true;
        if (t_.bad <= 10) {
            fprintf(
                stderr, "h265direct-receiver: access unit %llu: %s; dropped\n",
                static_cast<unsigned long long>(t_.frames),
                hevc::toString(unitError_ != hevc::ParseError::None ? unitError_
                                                                    : hevc::ParseError::NoPicture));
        }
        unitError_ = hevc::ParseError::None;
    }
    if (end && unitError_ != hevc::ParseError::None) {
        report(unitError_, 0);  // its access unit was never closed (the stream ended)
        unitError_ = hevc::ParseError::None;
    }
}

std::string Receiver::position() const {
    return t_.frames == 0 ? std::string("before the first access unit")
                          : "after access unit " + std::to_string(t_.frames);
}

void Receiver::report(hevc::ParseError err, uint64_t skipped) {
    if (t_.streamErrors > 10) {
        return;
    }
    fprintf(stderr, "h265direct-receiver: %s: %s%s\n", position().c_str(), hevc::toString(err),
            skipped > 0 ? (" (" + std::to_string(skipped) + " bytes skipped)").c_str() : "");
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
                "dropped %llu | connections %llu\n",
                static_cast<double>(t_.frames - last_.frames) / s,
                static_cast<double>(t_.bytes - last_.bytes) * 8 / 1000 / s,
                static_cast<unsigned long long>(t_.frames),
                static_cast<unsigned long long>(t_.keyframes),
                static_cast<unsigned long long>(t_.bad),
                static_cast<unsigned long long>(t_.dropped),
                static_cast<unsigned long long>(t_.connections));
    }
    last_ = t_;
    lastTickNs_ = now;
}

int Receiver::msToNextTick() const {
    const int64_t left = lastTickNs_ + 1'000'000'000 - monotonicNs();
    return left <= 0 ? 0 : static_cast<int>((left + 999'999) / 1'000'000);
}

void Receiver::begin(Connection& c) {
    ++t_.connections;
    firstOfConnection_ = true;
    needKeyframe_ = true;
    assembler_.reset();
    if (!opt_.quiet) {
        fprintf(stderr, "[receiver] sender %s connected\n", c.name.c_str());
    }
}

bool Receiver::readFrom(Connection& c) {
    const ssize_t got = ::read(c.fd.get(), buf_.data(), buf_.size());
    if (got == 0) {
        end(c, End::Closed);
        return false;
    }
    if (got < 0) {
        if (errno == EINTR || errno == EAGAIN) {
            return true;
        }
        end(c, End::Lost, errno);
        return false;
    }
    c.bytesIn += static_cast<uint64_t>(got);
    c.lastByteNs = monotonicNs();
    const std::span<const uint8_t> bytes(buf_.data(), static_cast<size_t>(got));
    if (opt_.framing == Framing::AnnexB) {
        onAnnexB(bytes, false);
        return true;
    }
    c.deframer.feed(bytes);
    while (!done() && c.deframer.next(frame_)) {
        onAccessUnit(frame_);
    }
    if (c.deframer.failed()) {
        ++t_.streamErrors;
        fprintf(stderr, "h265direct-receiver: %s: not the length framing: %s\n", position().c_str(),
                c.deframer.error().c_str());
        end(c, End::Closed);
        return false;
    }
    return true;
}

void Receiver::end(Connection& c, End how, int err) {
    if (opt_.framing == Framing::AnnexB && how != End::Stopped) {
        // A stream that ends inside a NAL unit header loses its last access unit (reported).
        onAnnexB({}, true);
    }
    const size_t pending =
        opt_.framing == Framing::Length && !c.deframer.failed() ? c.deframer.pending() : 0;
    if (how == End::Lost) {
        if (c.bytesIn == 0) {
            // Nothing was sent, so nothing is lost: a probe or a sender that gave up.
            fprintf(stderr, "h265direct-receiver: sender %s left before sending anything (%s)\n",
                    c.name.c_str(), strerror(err));
        } else {
            ++t_.streamErrors;
            fprintf(stderr, "h265direct-receiver: connection from %s lost: %s\n", c.name.c_str(),
                    strerror(err));
        }
    }
    if (pending > 0 && how != End::Stopped) {
        ++t_.cut;
        fprintf(stderr,
                "h265direct-receiver: the connection from %s ended inside an access unit (%zu "
                "bytes of it received, not written)\n",
                c.name.c_str(), pending);
    }
    if (!opt_.quiet) {
        fprintf(stderr, "[receiver] sender %s %s\n", c.name.c_str(),
                how == End::Replaced ? "replaced by a newer connection" : "left");
    }
    c.fd.reset();
}

void Receiver::serve(int lfd, std::unique_ptr<Connection> conn) {
    if (conn) {
        begin(*conn);
    }
    while (!done() && (conn || lfd >= 0)) {
        pollfd fds[3] = {
            {gStopFd, POLLIN, 0}, {lfd, POLLIN, 0}, {conn ? conn->fd.get() : -1, POLLIN, 0}};
        // Asleep until something happens; while a sender is connected, woken once a second
        // for the figures.
        const int timeout = conn && !opt_.quiet ? msToNextTick() : -1;
        if (poll(fds, 3, timeout) < 0 && errno != EINTR) {
            fprintf(stderr, "h265direct-receiver: poll: %s\n", strerror(errno));
            ++t_.streamErrors;
            break;
        }
        if (conn) {
            tick(false);
        }
        if (done()) {
            break;
        }
        if (conn && (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !readFrom(*conn)) {
            conn.reset();
            if (opt_.once || lfd < 0) {
                break;
            }
        }
        if ((fds[1].revents & POLLIN) != 0) {
            auto next = std::make_unique<Connection>();
            net::SocketAddress from;
            from.length = sizeof from.storage;
            next->fd.reset(::accept4(lfd, from.get(), &from.length, SOCK_CLOEXEC));
            if (!next->fd) {
                continue;  // gone before it was accepted
            }
            next->name = from.toString();
            if (conn && conn->bytesIn > 0 && monotonicNs() - conn->lastByteNs < kSenderSilentNs) {
                // One stream at a time, and the one streaming keeps the output: nobody else
                // can cut it off or write into it. The newcomer is closed unread.
                ++t_.refused;
                if (t_.refused <= 10) {
                    fprintf(stderr,
                            "h265direct-receiver: refused %s: sender %s is streaming (%llu "
                            "refused)\n",
                            next->name.c_str(), conn->name.c_str(),
                            static_cast<unsigned long long>(t_.refused));
                }
                continue;
            }
            if (conn) {
                // A connection that never sent anything (a probe), or a sender silent for
                // kSenderSilentNs (a restart, a lost link that never reported an error), is
                // replaced.
                end(*conn, End::Replaced);
            }
            conn = std::move(next);
            begin(*conn);
        }
    }
    if (conn) {
        end(*conn, done() ? End::Stopped : End::Closed);
    }
}

int Receiver::listenLoop() {
    const Result<net::Endpoint> ep = net::parseEndpoint(opt_.listen, true);
    if (!ep) {
        fprintf(stderr, "h265direct-receiver: -l: %s\n", ep.error().message.c_str());
        return ep.error().exitCode;
    }
    const Result<std::vector<net::SocketAddress>> binds = net::listenAddresses(ep.value());
    if (!binds) {
        fprintf(stderr, "h265direct-receiver: -l: %s\n", binds.error().message.c_str());
        return binds.error().exitCode;
    }
    const std::vector<net::SocketAddress>& addrs = binds.value();
    UniqueFd lfd(::socket(addrs[0].family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    const int one = 1, zero = 0;
    setsockopt(lfd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (addrs[0].family() == AF_INET6) {
        setsockopt(lfd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    if (!lfd || ::bind(lfd.get(), addrs[0].get(), addrs[0].length) != 0 ||
        ::listen(lfd.get(), 16) != 0) {
        fprintf(stderr, "h265direct-receiver: -l %s: cannot listen: %s\n", opt_.listen.c_str(),
                strerror(errno));
        return kExitNetwork;
    }
    if (!opt_.quiet) {
        fprintf(stderr, "[receiver] listening on %s\n", addrs[0].toString().c_str());
    }
    serve(lfd.get(), nullptr);
    return kExitOk;
}

int Receiver::connectOnce() {
    const Result<net::Endpoint> ep = net::parseEndpoint(opt_.connect, false);
    if (!ep) {
        fprintf(stderr, "h265direct-receiver: -c: %s\n", ep.error().message.c_str());
        return ep.error().exitCode;
    }
    const Result<std::vector<net::SocketAddress>> resolved =
        net::resolveEndpoint(ep.value(), false);
    if (!resolved) {
        fprintf(stderr, "h265direct-receiver: -c: %s\n", resolved.error().message.c_str());
        return resolved.error().exitCode;
    }
    const std::vector<net::SocketAddress>& addrs = resolved.value();
    std::string lastError;
    for (const net::SocketAddress& a : addrs) {
        auto c = std::make_unique<Connection>();
        c->fd.reset(::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (c->fd && ::connect(c->fd.get(), a.get(), a.length) == 0) {
            if (!opt_.quiet) {
                fprintf(stderr, "[receiver] connected to %s\n", a.toString().c_str());
            }
            c->name = a.toString();
            serve(-1, std::move(c));
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
        fprintf(
            stderr,
            "[receiver] total: frames %llu | keyframes %llu | bad %llu | dropped %llu | "
            "%llu bytes | connections %llu | cut %llu | refused %llu\n",
            static_cast<unsigned long long>(t_.frames),
            static_cast<unsigned long long>(t_.keyframes), static_cast<unsigned long long>(t_.bad),
            static_cast<unsigned long long>(t_.dropped), static_cast<unsigned long long>(t_.bytes),
            static_cast<unsigned long long>(t_.connections),
            static_cast<unsigned long long>(t_.cut), static_cast<unsigned long long>(t_.refused));
    }
    if (t_.dropped > 0 && out_ != nullptr) {
        fprintf(stderr, "h265direct-receiver: %llu access units not written to the output\n",
                static_cast<unsigned long long>(t_.dropped));
    }
    if (outputFailed_) {
        return kExitOutput;
    }
    if (t_.bad > 0 || t_.streamErrors > 0) {
        return kExitFailure;
    }
    return t_.cut > 0 ? kExitCut : kExitOk;
}

}  // namespace
}  // namespace h265direct

int main(int argc, char** argv) {
    using namespace h265direct;
    Options o;
    cli::Parser p("h265direct-receiver",
                  "h265direct-receiver: receives h265direct's TCP stream, checks every access "
                  "unit and writes the access units that pass to the H.265 Annex-B stream.\nExit "
                  "code: 0 all good, 1 a bad access unit or stream, 2 bad option, 8 cannot "
                  "listen/connect, 9 output failed, 10 a connection ended inside an access "
                  "unit.",
                  std::string("h265direct-receiver ") + H265D_VERSION);
    p.option("-l,--listen", "[HOST:]PORT",
             "Wait for h265direct -t on [HOST:]PORT; serves one sender at a time: while it "
             "streams, others are refused; a new connection replaces it once it is gone "
             "(silent for 5 s)",
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
    p.flag("--once", o.once, "Stop when the sender being served leaves (with -l)");
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
    gStopFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (gStopFd < 0) {
        fprintf(stderr, "h265direct-receiver: eventfd: %s\n", strerror(errno));
        return kExitFailure;
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
