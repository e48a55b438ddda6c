// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string>

namespace h265direct {

enum class LogLevel { Quiet = 0, Error = 1, Warn = 2, Info = 3, Debug = 4 };

void setLogLevel(LogLevel level);
LogLevel logLevel();
bool logEnabled(LogLevel level);

// One line on stderr: "h265direct[module] level: message". printf-style.
void logMessage(LogLevel level, const char* module, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));

// The line that ends the program (or the library's run), printed once by the boundary that
// decides it: "h265direct: error: message" (unless the log level is Quiet). Log lines above
// report events during a run; this one says why it ended.
void printError(const std::string& message);

#define H265D_LOG(level, module, ...)                             \
    do {                                                          \
        if (::h265direct::logEnabled(level)) {                    \
            ::h265direct::logMessage(level, module, __VA_ARGS__); \
        }                                                         \
    } while (0)
#define LOG_ERROR(module, ...) H265D_LOG(::h265direct::LogLevel::Error, module, __VA_ARGS__)
#define LOG_WARN(module, ...) H265D_LOG(::h265direct::LogLevel::Warn, module, __VA_ARGS__)
#define LOG_INFO(module, ...) H265D_LOG(::h265direct::LogLevel::Info, module, __VA_ARGS__)
#define LOG_DEBUG(module, ...) H265D_LOG(::h265direct::LogLevel::Debug, module, __VA_ARGS__)

// Lets a repeated message through at most once per interval; counts what it held back.
class LogThrottle {
public:
    explicit LogThrottle(int64_t intervalNs = 1'000'000'000) : intervalNs_(intervalNs) {}
    // True when the caller should log now; suppressed() then tells how many were held back.
    bool allow();
    uint64_t suppressed() const { return reported_; }

private:
    int64_t intervalNs_;
    int64_t last_ = 0;
    bool any_ = false;
    uint64_t held_ = 0;
    uint64_t reported_ = 0;
};

}  // namespace h265direct
