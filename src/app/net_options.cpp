#include "app/net_options.hpp"

#include <CLI/CLI.hpp>
#include <string>

#include "net/address.hpp"

namespace h265direct {

namespace {

std::function<std::string(const std::string&)> endpointCheck(bool hostOptional) {
    return [hostOptional](const std::string& value) {
        net::Endpoint e;
        return net::parseEndpoint(value, hostOptional, e);
    };
}

std::string kib(size_t bytes) {
    if (bytes % (1u << 20) == 0) {
        return std::to_string(bytes >> 20) + "MiB";
    }
    return std::to_string(bytes >> 10) + "KiB";
}

}  // namespace

void addNetOptions(CLI::App& app, NetConfig& config) {
    auto* g = app.add_option_group("Network (TCP, io_uring)");
    const NetConfig defaults;

    g->add_option("-t,--target", config.connect,
                  "Connect to a receiver at HOST:PORT ([IPV6]:PORT, names allowed) and stream "
                  "to it; reconnects until it answers, with backoff")
        ->type_name("HOST:PORT")
        ->check(endpointCheck(false), "", "HOST:PORT");
    g->add_option("-l,--listen", config.listen,
                  "Accept receivers on [HOST:]PORT (any address when HOST is left out); each "
                  "one starts at a keyframe with parameter sets")
        ->type_name("[HOST:]PORT")
        ->check(endpointCheck(true), "", "[HOST:]PORT");

    g->add_option_function<std::string>(
         "--framing",
         [&config](const std::string& v) {
             config.framing = v == "annexb" ? Framing::AnnexB : Framing::Length;
         },
         "Wire format: 'length' = each access unit after its size as 4 bytes big-endian (the "
         "original script's format); 'annexb' = the raw H.265 stream (GStreamer "
         "tcpserversrc, ffplay tcp://)")
        ->type_name("length|annexb")
        ->check(CLI::IsMember({"length", "annexb"}))
        ->default_str("length");
    g->add_flag("--exit-on-disconnect", config.exitOnDisconnect,
                "End the run (exit code 8) when the -t connection fails or is lost, or when "
                "the last -l receiver leaves; default: keep running and reconnect");
    g->add_flag("--keep-encoding", config.keepEncoding,
                "Encode even while no receiver is connected (default: with only TCP outputs, "
                "encoding pauses until one connects)");

    g->add_option("--queue-frames", config.peerQueueFrames,
                  "Per receiver: most access units queued before it drops until the next "
                  "keyframe, 2..100000")
        ->type_name("N")
        ->check(CLI::Range(size_t{2}, size_t{100000}))
        ->default_str(std::to_string(defaults.peerQueueFrames));
    g->add_option("--queue-bytes", config.peerQueueBytes,
                  "Per receiver: most bytes queued, 64KiB..1GiB (suffixes k, M, G = 1024^n)")
        ->type_name("BYTES")
        ->transform(CLI::AsSizeValue(false).description(""))
        ->check(CLI::Range(size_t{64} << 10, size_t{1} << 30))
        ->default_str(kib(defaults.peerQueueBytes));
    g->add_option("--send-buffer", config.sendBufferBytes,
                  "Kernel send buffer per connection (SO_SNDBUF); smaller = lower latency for "
                  "slow links, 0 = kernel autotuning, else 4KiB..64MiB")
        ->type_name("BYTES")
        ->transform(CLI::AsSizeValue(false).description(""))
        ->check(CLI::Range(size_t{0}, size_t{64} << 20) &
                CLI::Validator(
                    [](std::string& v) {
                        const unsigned long long n = std::stoull(v);
                        return n == 0 || n >= 4096 ? std::string() : std::string("below 4KiB");
                    },
                    "", "min4k"))
        ->default_str("0");

    g->add_option_function<std::string>(
         "--zerocopy",
         [&config](const std::string& v) {
             config.zeroCopy = v == "on"     ? ZeroCopy::On
                               : v == "auto" ? ZeroCopy::Auto
                                             : ZeroCopy::Off;
         },
         "Zero-copy sends (IORING_OP_SEND_ZC): on, off, or auto = only writes of "
         "--zerocopy-min bytes or more; falls back to plain sends where the kernel lacks it")
        ->type_name("on|off|auto")
        ->check(CLI::IsMember({"on", "off", "auto"}))
        ->default_str(defaults.zeroCopy == ZeroCopy::Off  ? "off"
                      : defaults.zeroCopy == ZeroCopy::On ? "on"
                                                          : "auto");
    g->add_option("--zerocopy-min", config.zeroCopyMinBytes,
                  "--zerocopy auto: smallest write sent zero-copy, 1KiB..1GiB")
        ->type_name("BYTES")
        ->transform(CLI::AsSizeValue(false).description(""))
        ->check(CLI::Range(size_t{1} << 10, size_t{1} << 30))
        ->default_str(kib(defaults.zeroCopyMinBytes));

    g->add_option("--connect-timeout", config.connectTimeoutMs,
                  "-t: give up one connection attempt after MS milliseconds, 100..600000")
        ->type_name("MS")
        ->check(CLI::Range(100, 600000))
        ->default_str(std::to_string(defaults.connectTimeoutMs));
    g->add_option("--reconnect-min", config.reconnectMinMs,
                  "-t: first retry delay in ms, doubled after each failure, 10..600000")
        ->type_name("MS")
        ->check(CLI::Range(10, 600000))
        ->default_str(std::to_string(defaults.reconnectMinMs));
    g->add_option("--reconnect-max", config.reconnectMaxMs,
                  "-t: longest retry delay in ms, 10..3600000")
        ->type_name("MS")
        ->check(CLI::Range(10, 3600000))
        ->default_str(std::to_string(defaults.reconnectMaxMs));
    g->add_option("--keyframe-request-interval", config.keyframeRequestIntervalMs,
                  "Joining or recovering receivers ask the encoder for a keyframe at most "
                  "once per MS milliseconds, 0..60000")
        ->type_name("MS")
        ->check(CLI::Range(0, 60000))
        ->default_str(std::to_string(defaults.keyframeRequestIntervalMs));
    g->add_option("--max-peers", config.maxPeers,
                  "-l: most receivers at once, 0 = no limit, ..100000")
        ->type_name("N")
        ->check(CLI::Range(0, 100000))
        ->default_str(std::to_string(defaults.maxPeers));
    g->add_option("--finish-timeout", config.finishTimeoutMs,
                  "At the end: ms to deliver what is queued before closing, 0..600000")
        ->type_name("MS")
        ->check(CLI::Range(0, 600000))
        ->default_str(std::to_string(defaults.finishTimeoutMs));
    g->callback([&config] {
        if (config.reconnectMinMs > config.reconnectMaxMs) {
            throw CLI::ValidationError("--reconnect-min",
                                       std::to_string(config.reconnectMinMs) +
                                           " is above --reconnect-max " +
                                           std::to_string(config.reconnectMaxMs));
        }
    });
}

}  // namespace h265direct
