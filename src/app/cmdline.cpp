// SPDX-License-Identifier: GPL-2.0-or-later
// The command-line layer over CLI11 (app/cmdline.hpp). One file (about 700 lines): the
// configuration file merged under the command line, --print-config with its secrets and the
// help text all read and write the one registry of options in Parser::Impl (the value setters
// are in cmdline_values.cpp).

#include "app/cmdline.hpp"

#include <sys/stat.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
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

enum class Kind { Flag, Counter, Value, List };

struct Opt {
    Kind kind = Kind::Value;
    std::string shortName;  // "-b" or ""
    std::string longName;   // "--bitrate" or ""
    std::string help;
    std::string defaultText;
    std::string group;
    Parser::Setter set;          // Value
    Parser::Mask mask;           // secret(): how --print-config shows a value
    std::function<void()> seen;  // Flag, Counter
    CLI::Option* cli = nullptr;
    // This parse:
    bool given = false;               // on the command line or in the configuration file
    bool onCommandLine = false;       // on the command line
    std::string value;                // Value: the text in effect
    std::vector<std::string> values;  // List: every value, in order
    int count = 0;                    // Flag, Counter: how often given

    std::string label() const { return longName.empty() ? shortName : longName; }
    // The name in a configuration file: the long name without its dashes.
    std::string key() const { return longName.empty() ? std::string{} : longName.substr(2); }
};

std::string trimmed(const std::string& s) {
    const size_t begin = s.find_first_not_of(" \t\r");
    if (begin == std::string::npos) {
        return {};
    }
    return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

// A value as the configuration file writes it: numbers bare, anything else quoted.
std::string configValue(const std::string& v) {
    double n = 0;
    const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
    if (!v.empty() && r.ec == std::errc() && r.ptr == v.data() + v.size()) {
        return v;
    }
    return v.find('"') == std::string::npos ? "\"" + v + "\"" : "'" + v + "'";
}

// The help: the description, the usage line, then each group's options with the description
// (and default) wrapped from one column.
class HelpFormatter : public CLI::Formatter {
public:
    std::string make_help(const CLI::App* app, std::string name,
                          CLI::AppFormatMode /*mode*/) const override {
        std::string out = app->get_description() + "\nUsage: " + name + " [OPTIONS]\n";
        for (const std::string& g : app->get_groups()) {
            out += "\n" + g + ":\n";
            for (const CLI::Option* o :
                 app->get_options([&g](const CLI::Option* x) { return x->get_group() == g; })) {
                out += optionLine(o);
            }
        }
        return out;
    }

private:
    static std::string optionLine(const CLI::Option* o) {
        std::string names = "  " + o->get_name(false, true);
        if (!o->get_type_name().empty()) {
            names += " " + o->get_type_name();
        }
        std::string out = names;
        size_t column = names.size();
        if (column + 1 > kHelpColumn) {
            out += "\n";
            column = 0;
        }
        out.append(kHelpColumn - column, ' ');
        std::string text = o->get_description();
        if (!o->get_default_str().empty()) {
            text += " (default: " + o->get_default_str() + ")";
        }
        appendWrapped(out, text, kHelpColumn, kHelpColumn, kHelpWidth);
        return out + "\n";
    }
};

}  // namespace

struct Parser::Impl {
    enum class Stop { None, Help, Version, PrintConfig };

    CLI::App app;
    std::string program;
    std::string version;
    std::string group = "Options";
    std::vector<std::unique_ptr<Opt>> opts;
    std::vector<std::pair<std::string, std::string>> exclusions;
    std::vector<std::function<void()>> checks;
    CLI::Option* config = nullptr;
    CLI::Option* printConfig = nullptr;
    Stop stop = Stop::None;
    std::vector<std::string> warnings;  // this parse's, printed by parse()
    mutable size_t hidden = 0;          // secrets the last effectiveConfig() hid

    Impl(std::string name, const std::string& description, std::string versionText)
        : app(description, name), program(std::move(name)), version(std::move(versionText)) {
        app.formatter(std::make_shared<HelpFormatter>());
        app.allow_extras();  // reported here, in the programs' words
        app.set_help_flag("-h,--help", "Print this help and exit");
        if (!version.empty()) {
            app.set_version_flag("--version", version, "Print the version and exit");
        }
    }

    Opt* find(const std::string& name) {
        for (auto& o : opts) {
            if (o->longName == name || o->shortName == name) {
                return o.get();
            }
        }
        return nullptr;
    }

    Opt* find(const CLI::Option* c) {
        for (auto& o : opts) {
            if (o->cli == c) {
                return o.get();
            }
        }
        return nullptr;
    }

    void add(const std::string& names, std::unique_ptr<Opt> o, CLI::Option* c) {
        size_t start = 0;
        while (start <= names.size()) {
            size_t comma = names.find(',', start);
            if (comma == std::string::npos) {
                comma = names.size();
            }
            const std::string name = names.substr(start, comma - start);
            (name.rfind("--", 0) == 0 ? o->longName : o->shortName) = name;
            start = comma + 1;
        }
        o->group = group;
        o->cli = c;
        c->group(group);
        opts.push_back(std::move(o));
    }

    // Whether the file's setting of `o` gives way to the command line: `o` itself, or an
    // option it cannot be combined with, is on the command line.
    bool overridden(const Opt& o) {
        if (o.onCommandLine) {
            return true;
        }
        for (const auto& [a, b] : exclusions) {
            const Opt* x = find(a);
            const Opt* y = find(b);
            if ((x == &o && y != nullptr && y->onCommandLine) ||
                (y == &o && x != nullptr && x->onCommandLine)) {
                return true;
            }
        }
        return false;
    }

    // One value of `o`, from the command line or the file (`name` is how that source names it).
    static void apply(Opt& o, const std::string& value, const std::string& name) {
        if (o.kind == Kind::List) {
            o.given = true;
            try {
                o.set(value);
            } catch (const UsageError& e) {
                throw UsageError{name + ": " + e.message};
            }
            o.values.push_back(value);
            return;
        }
        if (o.kind == Kind::Counter && !value.empty() && value != "true") {
            // --verbose=N: N times (as `verbose = N` in a file; Python's verbose=2).
            long long n = 0;
            try {
                wholeNumber([&n](long long v) { n = v; }, 0, 10)(value);
            } catch (const UsageError& e) {
                throw UsageError{name + ": " + e.message};
            }
            for (long long i = 0; i < n; ++i) {
                apply(o, "true", name);
            }
            return;
        }
        if (o.kind != Kind::Value) {
            o.given = true;
            ++o.count;
            o.seen();
            return;
        }
        if (o.given) {
            throw UsageError{name + ": given more than once"};
        }
        o.given = true;
        try {
            o.set(value);
        } catch (const UsageError& e) {
            throw UsageError{name + ": " + e.message};
        }
        o.value = value;
    }

    // CLI11's own refusals, in the programs' words.
    std::string translate(const CLI::ParseError& e) {
        const std::string what = e.what();
        const std::string override = " was given a disallowed flag override";
        if (what.size() > override.size() &&
            what.compare(what.size() - override.size(), override.size(), override) == 0) {
            return "--" + what.substr(0, what.size() - override.size()) + " takes no value";
        }
        const size_t colon = what.find(": ");
        if (colon != std::string::npos && what.find(" required ", colon) != std::string::npos) {
            const std::string name = what.substr(0, colon);
            if (const CLI::Option* c = app.get_option_no_throw(name); c != nullptr) {
                return name + " needs a value (" + c->get_type_name() + ")";
            }
        }
        return what;
    }

    // What CLI11 left over: unknown options and stray words.
    static void refuseLeftovers(const std::vector<std::string>& left,
                                const std::vector<std::string>& args) {
        bool marked = false;  // the first "--" ends the options
        for (const std::string& a : left) {
            if (a == "--" && !marked) {
                marked = true;
                continue;
            }
            if (a.size() < 2 || a[0] != '-') {
                throw UsageError{"unexpected argument '" + a + "' (options start with -)"};
            }
            if (a[1] == '-') {
                throw UsageError{"unknown option " + a.substr(0, a.find('='))};
            }
            std::string where;
            bool literal = false;
            for (const std::string& arg : args) {
                literal = literal || arg == a;
                if (where.empty() && arg.size() > a.size() && arg[0] == '-' && arg[1] != '-' &&
                    arg.compare(arg.size() - (a.size() - 1), a.size() - 1, a, 1) == 0) {
                    where = arg;
                }
            }
            throw UsageError{"unknown option " + a.substr(0, 2) +
                             (literal || where.empty() ? "" : " (in " + where + ")")};
        }
    }

    // The configuration file's settings for what the command line did not set.
    void readConfig(const std::string& path) {
        std::ifstream in(path);
        if (!in) {
            throw UsageError{"--config " + path + ": " + std::strerror(errno)};
        }
        const CLI::ConfigTOML format;
        std::map<const Opt*, int> lineOf;
        bool holdsSecrets = false;
        std::string line;
        for (int n = 1; std::getline(in, line); ++n) {
            const std::string where = path + ":" + std::to_string(n) + ": ";
            const std::string t = trimmed(line);
            if (t.empty() || t[0] == '#' || t[0] == ';') {
                continue;
            }
            if (t[0] == '[') {
                throw UsageError{where + "sections are not used; write name = value lines"};
            }
            const size_t eq = t.find('=');
            if (eq == std::string::npos || trimmed(t.substr(0, eq)).empty()) {
                throw UsageError{where + "'" + t + "' is not name = value"};
            }
            // CLI11 cuts a line at its first '#', even inside quotes: refuse what it would
            // misread rather than take part of a value.
            const std::string raw = trimmed(t.substr(eq + 1));
            if (!raw.empty() && (raw[0] == '"' || raw[0] == '\'')) {
                const size_t close = raw.find(raw[0], 1);
                const size_t hash = raw.find('#');
                if (close == std::string::npos || (hash != std::string::npos && hash < close)) {
                    throw UsageError{where + trimmed(t.substr(0, eq)) +
                                     (close == std::string::npos
                                          ? ": the quote is not closed"
                                          : ": a value cannot hold '#' (it starts a comment)")};
                }
            }
            // CLI11 reads the line: quotes, trailing comment, lists.
            std::istringstream one(t);
            const std::vector<CLI::ConfigItem> items = format.from_config(one);
            if (items.size() != 1) {
                throw UsageError{where + "'" + t + "' is not name = value"};
            }
            std::string key;
            for (const std::string& p : items[0].parents) {
                key += p + ".";
            }
            key += items[0].name;
            Opt* o = find("--" + key);
            if (o == nullptr || key.empty()) {
                const bool command =
                    key == "config" || key == "print-config" || key == "help" || key == "version";
                throw UsageError{where + "'" + key + "' " +
                                 (command ? "is for the command line only" : "is not an option")};
            }
            if (const auto seen = lineOf.find(o); seen != lineOf.end() && o->kind != Kind::List) {
                throw UsageError{where + key + ": given more than once (also on line " +
                                 std::to_string(seen->second) + ")"};
            }
            lineOf[o] = n;
            for (const std::string& value : items[0].inputs) {
                holdsSecrets = holdsSecrets || (o->mask && o->mask(value) != value);
            }
            if (o->kind == Kind::List && !items[0].inputs.empty()) {
                // A list: one value a line, or several as ["a", "b"].
                if (overridden(*o)) {
                    continue;
                }
                for (const std::string& value : items[0].inputs) {
                    try {
                        apply(*o, value, key);
                    } catch (const UsageError& e) {
                        throw UsageError{where + e.message};
                    }
                }
                continue;
            }
            if (items[0].inputs.size() != 1) {
                throw UsageError{where + key + ": one value expected (quote a value with spaces)"};
            }
            const std::string& value = items[0].inputs[0];
            if (overridden(*o)) {
                continue;
            }
            try {
                applyFromFile(*o, key, value);
            } catch (const UsageError& e) {
                throw UsageError{where + e.message};
            }
        }
        if (holdsSecrets) {
            warnIfReadable(path);
        }
    }

    // A file holding secrets that every user of the machine may read: one warning.
    void warnIfReadable(const std::string& path) {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
            char mode[8];
            std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
            warnings.push_back("--config " + path +
                               " holds secrets and every user can read it (mode " + mode +
                               "): chmod 600 " + path + " (or 640, group of the service's user)");
        }
    }

    static void applyFromFile(Opt& o, const std::string& key, const std::string& value) {
        if (o.kind == Kind::Flag) {
            if (value != "true" && value != "false") {
                throw UsageError{key + ": '" + value + "' is not true or false"};
            }
            if (value == "true") {
                apply(o, value, key);
            }
        } else if (o.kind == Kind::Counter) {
            if (value != "false") {
                apply(o, value, key);  // true: once; N: N times
            }
        } else {
            apply(o, value, key);
        }
    }
};

Parser::Parser(std::string program, std::string description, std::string version)
    : impl_(std::make_unique<Impl>(std::move(program), description, std::move(version))) {}

Parser::~Parser() = default;

void Parser::group(std::string title) {
    impl_->group = std::move(title);
}

void Parser::flag(const std::string& names, bool& target, std::string help) {
    auto o = std::make_unique<Opt>();
    o->kind = Kind::Flag;
    o->help = std::move(help);
    o->seen = [&target] { target = true; };
    CLI::Option* c = impl_->app.add_flag(names)->description(o->help);
    c->disable_flag_override();
    impl_->add(names, std::move(o), c);
}

void Parser::counter(const std::string& names, int& target, std::string help) {
    auto o = std::make_unique<Opt>();
    o->kind = Kind::Counter;
    o->help = std::move(help);
    o->seen = [&target] { ++target; };
    // --name=N is taken as N times --name (apply).
    CLI::Option* c = impl_->app.add_flag(names)->description(o->help);
    impl_->add(names, std::move(o), c);
}

void Parser::option(const std::string& names, std::string valueName, std::string help,
                    std::string defaultText, Setter set) {
    auto o = std::make_unique<Opt>();
    o->help = std::move(help);
    o->defaultText = std::move(defaultText);
    o->set = std::move(set);
    CLI::Option* c = impl_->app.add_option(names)->description(o->help);
    // Every value is kept as given; this layer converts and counts them.
    c->type_name(valueName)
        ->default_str(o->defaultText)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    impl_->add(names, std::move(o), c);
}

void Parser::list(const std::string& names, std::string valueName, std::string help, Setter set) {
    auto o = std::make_unique<Opt>();
    o->kind = Kind::List;
    o->help = std::move(help);
    o->set = std::move(set);
    CLI::Option* c = impl_->app.add_option(names)->description(o->help);
    c->type_name(valueName)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    impl_->add(names, std::move(o), c);
}

void Parser::secret(const std::string& name, Mask mask) {
    Opt* o = impl_->find(name);
    if (o == nullptr || o->kind == Kind::Flag || o->kind == Kind::Counter) {
        throw std::invalid_argument("secret(): " + name + " is no option with a value");
    }
    o->mask = std::move(mask);
}

void Parser::excludes(const std::string& a, const std::string& b) {
    impl_->exclusions.emplace_back(a, b);
}

void Parser::check(std::function<void()> fn) {
    impl_->checks.push_back(std::move(fn));
}

void Parser::configFile() {
    impl_->config = impl_->app.add_option("--config")
                        ->description(
                            "Read options from FILE (name = value lines, see "
                            "--print-config); options on the command line win")
                        ->type_name("FILE")
                        ->group("Options");
    impl_->printConfig =
        impl_->app.add_flag("--print-config")
            ->description("Print the effective configuration in --config's format and exit")
            ->group("Options");
}

bool Parser::given(const std::string& name) const {
    const Opt* o = impl_->find(name);
    return o != nullptr && o->given;
}

bool Parser::parseOrThrow(const std::vector<std::string>& args) {
    Impl& m = *impl_;
    m.stop = Impl::Stop::None;
    m.warnings.clear();
    for (auto& o : m.opts) {
        o->given = o->onCommandLine = false;
        o->value.clear();
        o->values.clear();
        o->count = 0;
    }
    // CLI11 keeps the order of every parse: this one's starts here.
    const size_t firstOfThisParse = m.app.parse_order().size();
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
        m.app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        m.stop = Impl::Stop::Help;
        return false;
    } catch (const CLI::CallForVersion&) {
        m.stop = Impl::Stop::Version;
        return false;
    } catch (const CLI::ParseError& e) {
        throw UsageError{m.translate(e)};
    }
    Impl::refuseLeftovers(m.app.remaining(), args);

    // The command line, in its order: the first bad value is the one reported.
    std::map<const CLI::Option*, size_t> used;
    for (size_t k = firstOfThisParse; k < m.app.parse_order().size(); ++k) {
        const CLI::Option* c = m.app.parse_order()[k];
        Opt* o = m.find(c);
        if (o == nullptr) {
            continue;
        }
        const size_t i = used[c]++;
        o->onCommandLine = true;
        Impl::apply(*o, i < c->results().size() ? c->results()[i] : std::string{}, o->label());
    }
    if (m.config != nullptr && m.config->count() > 0) {
        if (m.config->results().size() > 1) {
            throw UsageError{"--config: given more than once"};
        }
        if (m.config->results()[0].empty()) {
            throw UsageError{"--config: empty value"};
        }
        m.readConfig(m.config->results()[0]);
    }

    for (const auto& [a, b] : m.exclusions) {
        if (given(a) && given(b)) {
            throw UsageError{b + " cannot be combined with " + a};
        }
    }
    for (const auto& fn : m.checks) {
        fn();
    }
    if (m.printConfig != nullptr && m.printConfig->count() > 0) {
        m.stop = Impl::Stop::PrintConfig;
        return false;
    }
    return true;
}

int Parser::parse(int argc, const char* const* argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        const bool go = parseOrThrow(args);
        for (const std::string& w : impl_->warnings) {
            std::fprintf(stderr, "%s: warning: %s\n", impl_->program.c_str(), w.c_str());
        }
        if (!go) {
            switch (impl_->stop) {
                case Impl::Stop::Help:
                    std::fputs(help().c_str(), stdout);
                    break;
                case Impl::Stop::Version:
                    std::printf("%s\n", impl_->version.c_str());
                    std::fputs(versionDetails_ ? versionDetails_().c_str() : "", stdout);
                    break;
                case Impl::Stop::PrintConfig:
                case Impl::Stop::None:
                    std::fputs(effectiveConfig().c_str(), stdout);
                    if (impl_->hidden > 0) {
                        std::fprintf(stderr,
                                     "%s: note: --print-config hid %zu secret%s as ***; fill %s in "
                                     "before using the output as a --config file\n",
                                     impl_->program.c_str(), impl_->hidden,
                                     impl_->hidden == 1 ? "" : "s",
                                     impl_->hidden == 1 ? "it" : "them");
                    }
                    break;
            }
            return 0;
        }
    } catch (const UsageError& e) {
        std::fprintf(stderr, "%s: error: %s (see --help)\n", impl_->program.c_str(),
                     e.message.c_str());
        return 2;
    }
    return -1;
}

std::string Parser::help() const {
    return impl_->app.help();
}

size_t Parser::hiddenSecrets() const {
    return impl_->hidden;
}

std::string Parser::effectiveConfig() const {
    const Impl& m = *impl_;
    m.hidden = 0;
    // A secret's value as its mask shows it. Each "***" the mask put in is a hidden secret
    // (a URL may hide a password and a stream id); a changed value hides one at least.
    const auto stars = [](const std::string& t) {
        size_t n = 0;
        for (size_t at = t.find("***"); at != std::string::npos; at = t.find("***", at + 3)) {
            ++n;
        }
        return n;
    };
    const auto shown = [&m, &stars](const Opt& o, const std::string& v) {
        if (!o.mask) {
            return v;
        }
        std::string masked = o.mask(v);
        if (masked != v) {
            m.hidden += std::max<size_t>(1, stars(masked) - std::min(stars(masked), stars(v)));
        }
        return masked;
    };
    std::string out = "# " + m.program +
                      " configuration, read with --config FILE; options on the command line "
                      "win.\n# One `name = value` per line (the long option's name); quote "
                      "values with spaces; '#' starts\n# a comment. Lines starting with '#' "
                      "show a default.\n";
    std::string group;
    for (const auto& o : m.opts) {
        if (o->key().empty()) {
            continue;
        }
        if (o->group != group) {
            group = o->group;
            out += "\n## " + group + "\n";
        }
        std::string help;
        appendWrapped(help, o->help, 0, 0, kHelpWidth - 2);
        out += "\n";
        for (size_t pos = 0; pos < help.size();) {
            const size_t end = std::min(help.find('\n', pos), help.size());
            out += "# " + help.substr(pos, end - pos) + "\n";
            pos = end + 1;
        }
        std::string line = o->key() + " =";
        if (o->kind == Kind::Flag) {
            line += o->given ? " true" : " false";
        } else if (o->kind == Kind::Counter) {
            line += " " + std::to_string(o->count);
        } else if (o->kind == Kind::List) {
            std::string items;
            for (const std::string& v : o->values) {
                const std::string text = shown(*o, v);  // a secret's '#' is masked with it
                if (text.find('#') != std::string::npos) {
                    throw UsageError{"--print-config: a value of " + o->label() +
                                     " holds '#', which a configuration file cannot hold"};
                }
                items += (items.empty() ? "" : ", ") + configValue(text);
            }
            line += " [" + items + "]";
        } else if (o->given) {
            const std::string text = shown(*o, o->value);
            if (text.find('#') != std::string::npos) {
                throw UsageError{"--print-config: the value of " + o->label() +
                                 " holds '#', which a configuration file cannot hold"};
            }
            line += " " + configValue(text);
        } else if (!o->defaultText.empty()) {
            line += " " + configValue(o->defaultText);
        }
        out += (o->given ? "" : "# ") + line + "\n";
    }
    return out;
}

}  // namespace h265direct::cli
