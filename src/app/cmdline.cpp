#include "app/cmdline.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

namespace h265direct::cli {

namespace {

constexpr size_t kHelpColumn = 34;  // where option descriptions start
constexpr size_t kHelpWidth = 100;  // where lines wrap

// Appends `text` word-wrapped to `width`, continuation lines indented by `indent`; the first
// line continues from column `column`.
void appendWrapped(std::string& out, const std::string& text, size_t column, size_t indent,
                   size_t width) {
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find(' ', pos);
        if (end == std::string::npos) {
            end = text.size();
        }
        const size_t word = end - pos;
        if (column > indent && column + 1 + word > width) {
            out += '\n';
            out.append(indent, ' ');
            column = indent;
        } else if (column > indent) {
            out += ' ';
            ++column;
        }
        out.append(text, pos, word);
        column += word;
        pos = end + 1;
    }
}

}  // namespace

Parser::Parser(std::string program, std::string description, std::string version)
    : program_(std::move(program)),
      description_(std::move(description)),
      version_(std::move(version)) {}

void Parser::group(std::string title) {
    group_ = std::move(title);
}

void Parser::add(const std::string& names, Option o) {
    size_t start = 0;
    while (start <= names.size()) {
        size_t comma = names.find(',', start);
        if (comma == std::string::npos) {
            comma = names.size();
        }
        const std::string name = names.substr(start, comma - start);
        if (name.rfind("--", 0) == 0) {
            o.longName = name;
        } else {
            o.shortName = name;
        }
        start = comma + 1;
    }
    o.group = group_;
    options_.push_back(std::move(o));
}

void Parser::flag(const std::string& names, bool& target, std::string help) {
    Option o;
    o.help = std::move(help);
    o.seen = [&target] { target = true; };
    o.repeatable = true;
    add(names, std::move(o));
}

void Parser::counter(const std::string& names, int& target, std::string help) {
    Option o;
    o.help = std::move(help);
    o.seen = [&target] { ++target; };
    o.repeatable = true;
    add(names, std::move(o));
}

void Parser::option(const std::string& names, std::string valueName, std::string help,
                    std::string defaultText, Setter set) {
    Option o;
    o.valueName = std::move(valueName);
    o.help = std::move(help);
    o.defaultText = std::move(defaultText);
    o.set = std::move(set);
    add(names, std::move(o));
}

void Parser::excludes(const std::string& a, const std::string& b) {
    exclusions_.emplace_back(a, b);
}

void Parser::check(std::function<void()> fn) {
    checks_.push_back(std::move(fn));
}

Parser::Option* Parser::find(const std::string& name) {
    for (Option& o : options_) {
        if (o.longName == name || o.shortName == name) {
            return &o;
        }
    }
    return nullptr;
}

const Parser::Option* Parser::find(const std::string& name) const {
    return const_cast<Parser*>(this)->find(name);
}

bool Parser::given(const std::string& name) const {
    const Option* o = find(name);
    return o != nullptr && o->given;
}

std::string Parser::label(const Option& o) {
    return o.longName.empty() ? o.shortName : o.longName;
}

void Parser::apply(Option& o, const std::string& value) {
    if (o.given && !o.repeatable) {
        throw UsageError{label(o) + ": given more than once"};
    }
    o.given = true;
    if (!o.set) {
        o.seen();
        return;
    }
    try {
        o.set(value);
    } catch (const UsageError& e) {
        throw UsageError{label(o) + ": " + e.message};
    }
}

bool Parser::parseOrThrow(const std::vector<std::string>& args) {
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "-h" || arg == "--help") {
            return false;
        }
        if (!version_.empty() && arg == "--version") {
            return false;
        }
    }
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg.size() < 2 || arg[0] != '-') {
            throw UsageError{"unexpected argument '" + arg + "' (options start with -)"};
        }
        if (arg == "--") {
            if (i + 1 < args.size()) {
                throw UsageError{"unexpected argument '" + args[i + 1] + "'"};
            }
            break;
        }
        if (arg[1] == '-') {
            const size_t eq = arg.find('=');
            const std::string name = arg.substr(0, eq);
            Option* o = find(name);
            if (o == nullptr || o->longName != name) {
                throw UsageError{"unknown option " + name};
            }
            if (!o->set) {
                if (eq != std::string::npos) {
                    throw UsageError{name + " takes no value"};
                }
                apply(*o, {});
            } else if (eq != std::string::npos) {
                apply(*o, arg.substr(eq + 1));
            } else if (i + 1 < args.size()) {
                apply(*o, args[++i]);
            } else {
                throw UsageError{name + " needs a value (" + o->valueName + ")"};
            }
            continue;
        }
        // Short options: flags may be clustered (-vq); a value may follow attached (-b500).
        for (size_t k = 1; k < arg.size(); ++k) {
            const std::string name = std::string("-") + arg[k];
            Option* o = find(name);
            if (o == nullptr || o->shortName != name) {
                throw UsageError{"unknown option " + name + (k > 1 ? " (in " + arg + ")" : "")};
            }
            if (!o->set) {
                apply(*o, {});
                continue;
            }
            if (k + 1 < arg.size()) {
                apply(*o, arg.substr(k + 1));
            } else if (i + 1 < args.size()) {
                apply(*o, args[++i]);
            } else {
                throw UsageError{label(*o) + " needs a value (" + o->valueName + ")"};
            }
            break;
        }
    }
    for (const auto& [a, b] : exclusions_) {
        if (given(a) && given(b)) {
            throw UsageError{b + " cannot be combined with " + a};
        }
    }
    for (const auto& fn : checks_) {
        fn();
    }
    return true;
}

int Parser::parse(int argc, const char* const* argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (!parseOrThrow(args)) {
            for (const std::string& a : args) {
                if (a == "-h" || a == "--help") {
                    std::fputs(help().c_str(), stdout);
                    return 0;
                }
            }
            std::printf("%s\n", version_.c_str());
            return 0;
        }
    } catch (const UsageError& e) {
        std::fprintf(stderr, "%s: error: %s (see --help)\n", program_.c_str(), e.message.c_str());
        return 2;
    }
    return -1;
}

std::string Parser::help() const {
    std::string out = description_ + "\nUsage: " + program_ + " [OPTIONS]\n";
    std::vector<std::string> groups;
    groups.push_back("Options");
    for (const Option& o : options_) {
        bool known = false;
        for (const std::string& g : groups) {
            known = known || g == o.group;
        }
        if (!known) {
            groups.push_back(o.group);
        }
    }
    for (const std::string& g : groups) {
        out += "\n" + g + ":\n";
        if (g == "Options") {
            out += "  -h,--help";
            out.append(kHelpColumn - 11, ' ');
            out += "Print this help and exit\n";
            if (!version_.empty()) {
                out += "  --version";
                out.append(kHelpColumn - 11, ' ');
                out += "Print the version and exit\n";
            }
        }
        for (const Option& o : options_) {
            if (o.group != g) {
                continue;
            }
            std::string names = "  " + o.shortName;
            if (!o.shortName.empty() && !o.longName.empty()) {
                names += ",";
            }
            names += o.longName;
            if (!o.valueName.empty()) {
                names += " " + o.valueName;
            }
            out += names;
            size_t column = names.size();
            if (column + 1 > kHelpColumn) {
                out += "\n";
                column = 0;
            }
            out.append(kHelpColumn - column, ' ');
            column = kHelpColumn;
            std::string text = o.help;
            if (!o.defaultText.empty()) {
                text += " (default: " + o.defaultText + ")";
            }
            appendWrapped(out, text, column, kHelpColumn, kHelpWidth);
            out += "\n";
        }
    }
    return out;
}

Parser::Setter wholeNumber(std::function<void(long long)> set, long long lo, long long hi) {
    return [set = std::move(set), lo, hi](const std::string& v) {
        long long n = 0;
        const char* end = v.data() + v.size();
        const auto r = std::from_chars(v.data(), end, n);
        const std::string range = std::to_string(lo) + ".." + std::to_string(hi);
        if (r.ec == std::errc::result_out_of_range && r.ptr == end) {
            throw UsageError{v + " is out of range " + range};
        }
        if (r.ec != std::errc() || r.ptr != end) {
            throw UsageError{"'" + v + "' is not a whole number"};
        }
        if (n < lo || n > hi) {
            throw UsageError{v + " is out of range " + range};
        }
        set(n);
    };
}

Parser::Setter number(double& target, double lo, double hi) {
    return [&target, lo, hi](const std::string& v) {
        double n = 0;
        const char* end = v.data() + v.size();
        const auto r = std::from_chars(v.data(), end, n);
        if (r.ec != std::errc() || r.ptr != end || !std::isfinite(n)) {
            throw UsageError{"'" + v + "' is not a number"};
        }
        if (n < lo || n > hi) {
            char range[64];
            std::snprintf(range, sizeof range, "%g..%g", lo, hi);
            throw UsageError{v + " is out of range " + range};
        }
        target = n;
    };
}

std::string bytesText(size_t bytes) {
    if (bytes != 0 && bytes % (size_t{1} << 30) == 0) {
        return std::to_string(bytes >> 30) + "GiB";
    }
    if (bytes != 0 && bytes % (size_t{1} << 20) == 0) {
        return std::to_string(bytes >> 20) + "MiB";
    }
    if (bytes != 0 && bytes % (size_t{1} << 10) == 0) {
        return std::to_string(bytes >> 10) + "KiB";
    }
    return std::to_string(bytes);
}

Parser::Setter byteSize(size_t& target, size_t lo, size_t hi) {
    return [&target, lo, hi](const std::string& v) {
        unsigned long long n = 0;
        const char* begin = v.data();
        const char* end = begin + v.size();
        const auto r = std::from_chars(begin, end, n);
        if (r.ec != std::errc() || r.ptr == begin) {
            throw UsageError{"'" + v + "' is not a byte count (e.g. 65536, 64k, 8M)"};
        }
        std::string suffix(r.ptr, end);
        for (char& c : suffix) {
            c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        unsigned shift = 0;
        if (!suffix.empty() && suffix != "b") {
            const char unit = suffix[0];
            const std::string rest = suffix.substr(1);
            shift = unit == 'k' ? 10 : unit == 'm' ? 20 : unit == 'g' ? 30 : 99;
            if (shift == 99 || !(rest.empty() || rest == "b" || rest == "ib")) {
                throw UsageError{"'" + v + "' is not a byte count (e.g. 65536, 64k, 8M)"};
            }
        }
        if (n > (std::numeric_limits<unsigned long long>::max() >> shift) || (n << shift) > hi ||
            (n << shift) < lo) {
            throw UsageError{v + " is out of range " + bytesText(lo) + ".." + bytesText(hi)};
        }
        target = static_cast<size_t>(n << shift);
    };
}

Parser::Setter text(std::string& target) {
    return [&target](const std::string& v) {
        if (v.empty()) {
            throw UsageError{"empty value"};
        }
        target = v;
    };
}

Parser::Setter oneOf(std::vector<std::string> words, std::function<void(const std::string&)> set) {
    return [words = std::move(words), set = std::move(set)](const std::string& v) {
        std::string list;
        for (const std::string& w : words) {
            if (w == v) {
                set(v);
                return;
            }
            list += (list.empty() ? "" : ", ") + w;
        }
        throw UsageError{"'" + v + "' is not one of " + list};
    };
}

}  // namespace h265direct::cli
