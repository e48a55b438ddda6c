// SPDX-License-Identifier: GPL-2.0-or-later
#include "net/net_sinks.hpp"

#include "net/tcp_output.hpp"

namespace h265direct {

std::vector<std::unique_ptr<Sink>> makeNetworkSinks(const NetConfig& config,
                                                    std::function<void()> requestKeyframe) {
    std::vector<std::unique_ptr<Sink>> sinks;
    if (!config.listen.empty()) {
        sinks.push_back(std::make_unique<net::TcpOutput>(net::TcpOutput::Mode::Server, config,
                                                         requestKeyframe));
    }
    if (!config.rtsp.empty()) {
        sinks.push_back(
            std::make_unique<net::TcpOutput>(net::TcpOutput::Mode::Rtsp, config, requestKeyframe));
    }
    if (!config.connect.empty()) {
        sinks.push_back(std::make_unique<net::TcpOutput>(net::TcpOutput::Mode::Client, config,
                                                         requestKeyframe));
    }
    return sinks;
}

}  // namespace h265direct
