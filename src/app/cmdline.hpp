// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

// The programs' command line (h265direct, h265direct-receiver) on top of CLI11: CLI11 reads
// the arguments (-x VALUE, -xVALUE, --long VALUE, --long=VALUE, clustered flags -vq, "--"),
// formats the help and reads the configuration file's lines; this layer turns each value into
// its setting, with ranges and one-line messages naming the option, and merges the
// configuration file (--config FILE) under the command line.
namespace h265direct::cli {

// A bad command line. From a setter: the reason only (the parser puts the option's name in
// front); from a check run after parsing: the whole message, naming the option(s).
struct UsageError {
    std::string message;
};

class Parser {
public:
    // Parses the value given to an option into its target, or throws UsageError(reason).
    using Setter = std::function<void(const std::string& value)>;

    // `version`: what --version prints (no --version option when empty).
    Parser(std::string program, std::string description, std::string version = {});
    ~Parser();
    Parser(const Parser&) = delete;
    Parser& operator=(const Parser&) = delete;

    // More lines --version prints after `version`, made only when --version is given.
    void versionDetails(std::function<std::string()> lines) { versionDetails_ = std::move(lines); }

    // Options added after this are listed under `title` in the help.
    void group(std::string title);
    // names: "-b,--bitrate" or "--loop" (a short name is one letter after one dash).
    void flag(const std::string& names, bool& target, std::string help);
    // A flag that counts how often it is given (-v, -vv).
    void counter(const std::string& names, int& target, std::string help);
    // An option with a value. defaultText is shown in the help ("" = none shown).
    void option(const std::string& names, std::string valueName, std::string help,
                std::string defaultText, Setter set);
    // An option that may be given any number of times; `set` gets each value in order (the
    // command line's, or else the configuration file's: one a line, or a list ["a", "b"]).
    void list(const std::string& names, std::string valueName, std::string help, Setter set);
    // How a secret is shown: mask(value) is what --print-config prints for the value of the
    // option `name` (e.g. a URL with its password as ***). Each *** the mask puts in counts as
    // a hidden secret (--print-config says how many on stderr), and a value read from a --config
    // file that every user may read gets a warning naming the file. Call after adding it.
    using Mask = std::function<std::string(const std::string& value)>;
    void secret(const std::string& name, Mask mask);
    // At most one of the two may be given.
    void excludes(const std::string& a, const std::string& b);
    // Runs once every option has been set; throws UsageError to refuse the combination.
    void check(std::function<void()> fn);
    // Adds --config FILE (every option above, read from FILE; the command line wins) and
    // --print-config (print the effective configuration in that format and exit).
    void configFile();

    // Whether the option (any of its names) was set, on the command line or in the file.
    bool given(const std::string& name) const;

    // -1: go on. 0: --help, --version or --print-config printed (stdout). 2: a one-line error
    // printed ("PROGRAM: error: ...") on stderr. Warnings ("PROGRAM: warning: ...": a
    // --config file holding secrets that every user may read) go to stderr first.
    int parse(int argc, const char* const* argv);
    // The same without printing: throws UsageError; returns false after --help, --version or
    // --print-config.
    bool parseOrThrow(const std::vector<std::string>& args);

    std::string help() const;
    // The options in effect in the configuration file's format: the ones set, as
    // `name = value` lines; the others commented out with their default. Throws UsageError
    // for a value the format cannot hold (one with '#').
    std::string effectiveConfig() const;
    // How many secrets the last effectiveConfig() hid (secret()).
    size_t hiddenSecrets() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::function<std::string()> versionDetails_;
};

// Setters for common value kinds; every one rejects trailing characters.
// A whole number in [lo, hi] (which must fit T).
Parser::Setter wholeNumber(std::function<void(long long)> set, long long lo, long long hi);
template <typename T>
Parser::Setter integer(T& target, long long lo, long long hi) {
    return wholeNumber([&target](long long n) { target = static_cast<T>(n); }, lo, hi);
}
// A decimal number in [lo, hi].
Parser::Setter number(double& target, double lo, double hi);
// A byte count with an optional suffix k, M, G (powers of 1024; "KiB", "MB"... accepted).
Parser::Setter byteSize(size_t& target, size_t lo, size_t hi);
// Any text (not empty).
Parser::Setter text(std::string& target);
// One of the listed words; `set` receives it.
Parser::Setter oneOf(std::vector<std::string> words, std::function<void(const std::string&)> set);

// "8MiB", "64KiB", "100 bytes": how byteSize values are shown.
std::string bytesText(size_t bytes);

}  // namespace h265direct::cli
