// SPDX-License-Identifier: GPL-2.0-or-later
// Who may use the servers (-l, --rtsp): at start, one warning when a server anyone beyond this
// machine can reach has no authentication; on the loop thread, the RTSP server's check of
// every request but OPTIONS against its users (the Authenticator, auth.hpp) before anything
// else is done for it.

#include <string>

#include "core/secure_random.hpp"
#include "core/text.hpp"
#include "net/tcp_output_impl.hpp"

namespace h265direct::net {

namespace {

// A client that fails this often on one connection (expired nonces aside) is closed.
constexpr int kMaxAuthFailures = 10;

}  // namespace

void TcpOutput::Impl::setUpAccess() {
    if (mode == Mode::Rtsp) {
        // Identifiers come from the kernel's CSPRNG: a kernel without one fails here, at
        // start, not on a client's connection.
        rtsp.sdp.sessionId = secureRandom64() >> 1;
        std::vector<Credential> users = configuredUsers(config).orThrow();
        if (!users.empty()) {
            Authenticator::Settings s;
            s.users = std::move(users);
            s.basic = config.rtspAuthBasic;
            s.nonceLifetimeSec = config.authNonceLifetimeSec;
            rtsp.auth = std::make_unique<Authenticator>(s);
            LOG_INFO(kNetTag, "RTSP server: %zu user%s, %s authentication", s.users.size(),
                     s.users.size() == 1 ? "" : "s", s.basic ? "Digest or Basic" : "Digest");
            if (s.basic) {
                LOG_WARN(kNetTag,
                         "--rtsp-auth digest,basic: Basic authentication sends the password in "
                         "clear: anyone who sees the traffic learns it");
            }
        }
    }
    std::string exposed;
    for (const auto& l : server.listeners) {
        if (!l->address.isLoopback()) {
            appendItem(exposed, ", ",
                       l->address.toString() +
                           (l->address.isWildcard() ? " (every address of this machine)" : ""));
        }
    }
    if (exposed.empty()) {
        return;
    }
    if (mode == Mode::Server) {
        LOG_WARN(kNetTag,
                 "-l on %s: no authentication (raw TCP has none): anyone who can reach it "
                 "receives the stream; listen on 127.0.0.1 or limit who reaches the port",
                 exposed.c_str());
    } else if (!rtsp.auth) {
        LOG_WARN(kNetTag,
                 "--rtsp on %s: no authentication: anyone who can reach it can watch; give "
                 "--user or --user-file, or listen on 127.0.0.1",
                 exposed.c_str());
    }
}

bool TcpOutput::Impl::rtspAuthorized(Peer& p, const RtspRequest& request) {
    if (!rtsp.auth || request.method == "OPTIONS") {
        return true;
    }
    RtspPeer& r = *p.rtsp;
    const Authenticator::Check c =
        rtsp.auth->check(request.method, request.uri, request.header("Authorization"));
    if (c.verdict == Authenticator::Verdict::Granted) {
        return true;
    }
    {
        std::lock_guard lock(figures.mutex);
        ++figures.totals.unauthorized;
    }
    if (c.verdict != Authenticator::Verdict::Stale) {
        ++r.authFailures;
    }
    if (c.verdict == Authenticator::Verdict::Denied && rtsp.authLog.allow()) {
        LOG_WARN(kNetTag, "%s: %s refused: %s (user \"%s\")", peerName(p).c_str(),
                 logSafe(request.method, 32).c_str(), c.reason, logSafe(c.user).c_str());
    }
    if (r.authFailures >= kMaxAuthFailures) {
        if (rtsp.authLog.allow()) {
            LOG_WARN(kNetTag, "%s: %d requests without valid credentials: closing",
                     peerName(p).c_str(), r.authFailures);
        }
        r.closeReason = "too many requests without valid credentials";
        r.closeAfterControl = true;
    }
    queueControl(p, r.session.unauthorized(
                        request, rtsp.auth->challenge(c.verdict == Authenticator::Verdict::Stale)));
    return false;
}

}  // namespace h265direct::net
