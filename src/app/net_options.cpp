// SPDX-License-Identifier: GPL-2.0-or-later
#include "app/net_options.hpp"

#include <string>

#include "core/redact.hpp"
#include "net/address.hpp"
#include "net/auth.hpp"
#include "net/io_loop.hpp"
#include "publish/publish_output.hpp"

namespace h265direct {

namespace {

cli::Parser::Setter endpoint(std::string& target, bool hostOptional) {
    return [&target, hostOptional](const std::string& value) {
        if (const Result<net::Endpoint> e = net::parseEndpoint(value, hostOptional); !e) {
            throw cli::UsageError{e.error().message};
        }
        target = value;
    };
}

}  // namespace

void addNetOptions(cli::Parser& parser, NetConfig& config) {
    const NetConfig defaults;
    parser.group("Network (TCP)");
    parser.option("-t,--target", "HOST:PORT",
                  "Connect to a receiver at HOST:PORT ([IPV6]:PORT, names allowed) and stream "
                  "to it; reconnects until it answers, with backoff",
                  "", endpoint(config.connect, false));
    parser.option("-l,--listen", "[HOST:]PORT",
                  "Accept receivers on [HOST:]PORT (any address when HOST is left out); each "
                  "one starts at a keyframe with parameter sets",
                  "", endpoint(config.listen, true));
    parser.option("--framing", "length|annexb",
                  "Wire format: 'length' = each access unit after its size as 4 bytes "
                  "big-endian (the original script's format); 'annexb' = the raw H.265 stream "
                  "(GStreamer tcpserversrc, ffplay tcp://)",
                  "length", cli::oneOf({"length", "annexb"}, [&config](const std::string& v) {
                      config.framing = v == "annexb" ? Framing::AnnexB : Framing::Length;
                  }));
    parser.flag("--exit-on-disconnect", config.exitOnDisconnect,
                "End the run (exit code 8) when the -t connection or a --publish session fails "
                "or is lost, when the last -l receiver leaves, or when the last --rtsp client "
                "leaves (a connection that set up a session closes: TEARDOWN, gone, timed out; "
                "one that only asked OPTIONS or DESCRIBE is no client); default: keep running "
                "and reconnect");
    parser.flag("--keep-encoding", config.keepEncoding,
                "Encode even while no receiver is connected (default: with only TCP outputs, "
                "encoding pauses until one connects)");
    parser.option("--queue-frames", "N",
                  "Per receiver: most access units queued before it drops until the next "
                  "keyframe, 2..100000",
                  std::to_string(defaults.peerQueueFrames),
                  cli::integer(config.peerQueueFrames, 2, 100000));
    parser.option("--queue-bytes", "BYTES",
                  "Per receiver: most bytes queued, 64KiB..1GiB (suffixes k, M, G = 1024^n)",
                  cli::bytesText(defaults.peerQueueBytes),
                  cli::byteSize(config.peerQueueBytes, size_t{64} << 10, size_t{1} << 30));
    const cli::Parser::Setter sendBuffer =
        cli::byteSize(config.sendBufferBytes, 0, size_t{64} << 20);
    parser.option("--send-buffer", "BYTES",
                  "Kernel send buffer per connection (SO_SNDBUF): kept small so that a "
                  "stalled receiver fills its queue (and skips to a keyframe) soon; raise it "
                  "for high bitrates over long links; 0 = kernel autotuning, else 4KiB..64MiB",
                  cli::bytesText(defaults.sendBufferBytes),
                  [&config, sendBuffer](const std::string& v) {
                      sendBuffer(v);
                      if (config.sendBufferBytes != 0 && config.sendBufferBytes < 4096) {
                          throw cli::UsageError{v + " is below 4KiB (0 = kernel autotuning)"};
                      }
                  });
    parser.option("--zerocopy", "on|off|auto",
                  "Zero-copy sends (IORING_OP_SEND_ZC): on, off, or auto = only writes of "
                  "--zerocopy-min bytes or more; falls back to plain sends where the kernel "
                  "lacks it",
                  defaults.zeroCopy == ZeroCopy::Off  ? "off"
                  : defaults.zeroCopy == ZeroCopy::On ? "on"
                                                      : "auto",
                  cli::oneOf({"on", "off", "auto"}, [&config](const std::string& v) {
                      config.zeroCopy = v == "on"     ? ZeroCopy::On
                                        : v == "auto" ? ZeroCopy::Auto
                                                      : ZeroCopy::Off;
                  }));
    parser.option("--zerocopy-min", "BYTES",
                  "Smallest write sent zero-copy with --zerocopy auto, 1KiB..1GiB",
                  cli::bytesText(defaults.zeroCopyMinBytes),
                  cli::byteSize(config.zeroCopyMinBytes, size_t{1} << 10, size_t{1} << 30));
    parser.option("--io", "auto|uring|epoll",
                  "Network I/O: io_uring, or epoll (non-blocking sockets; for kernels, "
                  "containers and emulators without io_uring); auto = io_uring where the kernel "
                  "has it and allows it, else epoll",
                  net::toString(defaults.io),
                  cli::oneOf({"auto", "uring", "epoll"}, [&config](const std::string& v) {
                      net::parseIoBackend(v, config.io);
                  }));
    parser.option("--connect-timeout", "MS",
                  "Give up one connection attempt of -t or --publish (--publish: also one write) "
                  "after MS milliseconds, 100..600000",
                  std::to_string(defaults.connectTimeoutMs),
                  cli::integer(config.connectTimeoutMs, 100, 600000));
    parser.option("--reconnect-min", "MS",
                  "First retry delay of -t and --publish in ms, doubled after each failure, "
                  "10..600000",
                  std::to_string(defaults.reconnectMinMs),
                  cli::integer(config.reconnectMinMs, 10, 600000));
    parser.option(
        "--reconnect-max", "MS", "Longest retry delay of -t and --publish in ms, 10..3600000",
        std::to_string(defaults.reconnectMaxMs), cli::integer(config.reconnectMaxMs, 10, 3600000));
    parser.option("--keyframe-request-interval", "MS",
                  "Joining or recovering receivers ask the encoder for a keyframe at most "
                  "once per MS milliseconds, 0..60000",
                  std::to_string(defaults.keyframeRequestIntervalMs),
                  cli::integer(config.keyframeRequestIntervalMs, 0, 60000));
    parser.option("--max-peers", "N",
                  "Most -l receivers (and --rtsp clients) at once (more are closed at once and "
                  "counted), 0 = no "
                  "limit, ..100000",
                  std::to_string(defaults.maxPeers), cli::integer(config.maxPeers, 0, 100000));
    parser.option("--finish-timeout", "MS",
                  "At the end: ms to deliver what is queued before closing, 0..600000",
                  std::to_string(defaults.finishTimeoutMs),
                  cli::integer(config.finishTimeoutMs, 0, 600000));
    parser.group("RTSP server");
    parser.option("--rtsp", "[HOST:]PORT",
                  "Serve the stream over RTSP on [HOST:]PORT (any address when HOST is left "
                  "out): rtsp://HOST:PORT/PATH for VLC, ffplay, NVRs; RTP/H.265 over the RTSP "
                  "connection or over UDP; each client starts at a keyframe with parameter sets",
                  "", endpoint(config.rtsp, true));
    parser.option("--rtsp-path", "PATH", "The stream's path in the rtsp:// URL, starting with '/'",
                  defaults.rtspPath, [&config](const std::string& v) {
                      if (v.empty() || v[0] != '/' || v.size() > 255) {
                          throw cli::UsageError{"'" + v +
                                                "' must start with '/' (at most 255 "
                                                "characters)"};
                      }
                      for (const char c : v) {
                          const auto u = static_cast<unsigned char>(c);
                          if (u <= 0x20 || u >= 0x7f || c == '?' || c == '#' || c == ';') {
                              throw cli::UsageError{"'" + v +
                                                    "' may hold no spaces, control "
                                                    "characters, '?', '#' or ';'"};
                          }
                      }
                      config.rtspPath = v;
                  });
    parser.option("--rtsp-timeout", "S",
                  "Close an RTSP client that sends nothing (no request, no RTCP) for S seconds, "
                  "5..3600",
                  std::to_string(defaults.rtspSessionTimeoutSec),
                  cli::integer(config.rtspSessionTimeoutSec, 5, 3600));
    parser.group("Users (RTSP authentication)");
    parser.list("--user", "USER:PASSWORD",
                "A user of the RTSP server, any number of times: with any user (or "
                "--user-file), every request but OPTIONS needs a user's name and password "
                "(--rtsp-auth). The user name holds no ':'; neither part is empty. On a shared "
                "machine --user-file keeps the password out of the process list",
                [&config](const std::string& value) {
                    if (Result<net::Credential> c = net::parseCredential(value); !c) {
                        throw cli::UsageError{c.error().message};
                    }
                    config.users.push_back(value);
                });
    parser.option("--user-file", "FILE",
                  "Users of the RTSP server from FILE: one USER:PASSWORD a line, '#' comments "
                  "and blank lines allowed; a relative path is looked up in "
                  "$CREDENTIALS_DIRECTORY first when that is set (systemd's LoadCredential=)",
                  "", [&config](const std::string& value) {
                      if (Result<std::vector<net::Credential>> u = net::readUserFile(value); !u) {
                          throw cli::UsageError{u.error().message};
                      }
                      config.userFile = value;
                  });
    parser.option("--rtsp-auth", "digest|digest,basic",
                  "How RTSP clients give their credentials: digest (HTTP Digest, MD5 or "
                  "SHA-256: the password never crosses the network), or digest,basic (Basic "
                  "too, which sends the password in clear: for clients that know nothing else)",
                  "digest", cli::oneOf({"digest", "digest,basic"}, [&config](const std::string& v) {
                      config.rtspAuthBasic = v == "digest,basic";
                  }));
    parser.option("--auth-nonce-lifetime", "S",
                  "A Digest nonce is good for S seconds; then the client is asked to answer a "
                  "new one (stale=true, no new password prompt), 5..86400",
                  std::to_string(defaults.authNonceLifetimeSec),
                  cli::integer(config.authNonceLifetimeSec, 5, 86400));
    parser.group("Publish (RTSP, SRT)");
    parser.list("--publish", "URL",
                "Publish to a media server, any number of times: rtsp://HOST[:PORT]/PATH "
                "(RTSP RECORD, RTP over TCP) or srt://HOST:PORT[?streamid=...] (MPEG-TS over "
                "SRT, caller); reconnects until it answers, with backoff",
                [&config](const std::string& value) {
                    if (Result<publish::PublishUrl> u = publish::parsePublishUrl(value); !u) {
                        throw cli::UsageError{u.error().message};
                    }
                    config.publish.push_back(value);
                });
    // --print-config shows each URL with its user-info and secret query values as ***.
    parser.secret("--publish", [](const std::string& url) { return redactUrl(url); });
    // --user: the name stays, the password is ***.
    parser.secret("--user",
                  [](const std::string& user) { return user.substr(0, user.find(':')) + ":***"; });
    parser.check([&config] {
        if (Result<std::vector<net::Credential>> u = net::configuredUsers(config); !u) {
            throw cli::UsageError{u.error().message};
        }
        // Users protect the RTSP server only: given without it, -l or nothing would look
        // protected and is not.
        if ((!config.users.empty() || !config.userFile.empty()) && config.rtsp.empty()) {
            throw cli::UsageError{
                "--user/--user-file: only the RTSP server (--rtsp) checks users; -l, -t and "
                "--publish have no authentication (docs/security.md)"};
        }
        if (config.reconnectMinMs > config.reconnectMaxMs) {
            throw cli::UsageError{"--reconnect-min: " + std::to_string(config.reconnectMinMs) +
                                  " is above --reconnect-max " +
                                  std::to_string(config.reconnectMaxMs)};
        }
    });
}

}  // namespace h265direct
