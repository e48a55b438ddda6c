// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/log.hpp"

#include <atomic>
#include <cstdarg>
#include <cstdio>

#include "core/clock.hpp"
#include "core/redact.hpp"

namespace h265direct {
namespace {
std::atomic<int> gLevel{static_cast<int>(LogLevel::Info)};

const char* levelName(LogLevel level) {
    switch (level) {
        case LogLevel::Error:
            return "error";
        case LogLevel::Warn:
            return "warning";
        case LogLevel::Info:
            return "info";
        case LogLevel::Debug:
            return "debug";
        case LogLevel::Quiet:
            break;
    }
    return "";
}
}  // namespace

void setLogLevel(LogLevel level) {
    gLevel.store(static_cast<int>(level));
}
LogLevel logLevel() {
    return static_cast<LogLevel>(gLevel.load());
}
bool logEnabled(LogLevel level) {
    return static_cast<int>(level) <= gLevel.load();
}

void logMessage(LogLevel level, const char* module, const char* fmt, ...) {
    char text[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(text, sizeof text, fmt, args);
    va_end(args);
    // One fprintf per line so that lines from several threads never interleave. No secret
    // leaves: whatever a message quotes (a URL, a library's text) is redacted here too.
    fprintf(stderr, "h265direct[%s] %s: %s\n", module, levelName(level), redactText(text).c_str());
}

void printError(const std::string& message) {
    if (logEnabled(LogLevel::Error)) {
        fprintf(stderr, "h265direct: error: %s\n", redactText(message).c_str());
    }
}

bool LogThrottle::allow() {
    const int64_t now = monotonicNs();
    if (!any_ || now - last_ >= intervalNs_) {
        any_ = true;
        last_ = now;
        reported_ = held_;
        held_ = 0;
        return true;
    }
    ++held_;
    return false;
}

}  // namespace h265direct
