// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

#include "h265direct/config.hpp"

namespace h265direct {

// What went wrong, for the user: the exit code the program ends with and one line saying
// what (no "error:" prefix and no program name: the boundary that prints it adds them).
struct Error {
    int exitCode = kExitFailure;
    std::string message;
};

// Start-up failures (opening, negotiating, configuring): an Error thrown up to the boundary
// (the program's main, Engine::run) that prints it and ends with its code. The frame path
// does not throw.
class StartupError : public std::runtime_error {
public:
    StartupError(int exitCode, const std::string& message)
        : std::runtime_error(message), exitCode_(exitCode) {}
    explicit StartupError(const Error& e) : StartupError(e.exitCode, e.message) {}
    int exitCode() const { return exitCode_; }

private:
    int exitCode_;
};

// A value, or the Error why there is none: returned by start-up code whose caller decides
// what a failure means (the option layer words a parser's message, a client retries a
// lookup). Callers that can only end the start-up throw it: `std::move(r).orThrow()`.
template <class T>
class Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const Error& error() const { return std::get<1>(v_); }
    // The value, or a StartupError with the message prefixed by `context` (e.g. "-t: ").
    T orThrow(const std::string& context = {}) && {
        if (!ok()) {
            throw StartupError(error().exitCode, context + error().message);
        }
        return std::get<0>(std::move(v_));
    }

private:
    std::variant<T, Error> v_;
};

}  // namespace h265direct
