// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture/v4l2_controls.hpp"

#include <linux/videodev2.h>

#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text.hpp"

namespace h265direct {

namespace {

std::string cString(const uint8_t* text, size_t size) {
    size_t n = 0;
    while (n < size && text[n] != 0) {
        ++n;
    }
    return std::string(reinterpret_cast<const char*>(text), n);
}

const char* typeName(uint32_t type) {
    switch (type) {
        case V4L2_CTRL_TYPE_INTEGER:
            return "int";
        case V4L2_CTRL_TYPE_BOOLEAN:
            return "bool";
        case V4L2_CTRL_TYPE_MENU:
            return "menu";
        case V4L2_CTRL_TYPE_INTEGER_MENU:
            return "intmenu";
        case V4L2_CTRL_TYPE_BUTTON:
            return "button";
        case V4L2_CTRL_TYPE_INTEGER64:
            return "int64";
        case V4L2_CTRL_TYPE_BITMASK:
            return "bitmask";
        case V4L2_CTRL_TYPE_STRING:
            return "str";
        default:
            return "compound";
    }
}

bool settableType(uint32_t type) {
    switch (type) {
        case V4L2_CTRL_TYPE_INTEGER:
        case V4L2_CTRL_TYPE_BOOLEAN:
        case V4L2_CTRL_TYPE_MENU:
        case V4L2_CTRL_TYPE_INTEGER_MENU:
        case V4L2_CTRL_TYPE_BUTTON:
        case V4L2_CTRL_TYPE_INTEGER64:
        case V4L2_CTRL_TYPE_BITMASK:
            return true;
        default:
            return false;
    }
}

bool hasMenu(uint32_t type) {
    return type == V4L2_CTRL_TYPE_MENU || type == V4L2_CTRL_TYPE_INTEGER_MENU;
}

// A whole number, the whole text (decimal, 0x hexadecimal, or octal with a leading 0).
bool parseWhole(const std::string& text, int64_t& value) {
    if (text.empty()) {
        return false;
    }
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 0);
    if (errno != 0 || end == text.c_str() || *end != '\0') {
        return false;
    }
    value = v;
    return true;
}

// Reads the current value; false for write-only controls and types without one.
bool readValue(const V4l2Device& dev, const V4l2Control& c, int64_t& value) {
    if ((c.flags & V4L2_CTRL_FLAG_WRITE_ONLY) != 0 || !settableType(c.type) ||
        c.type == V4L2_CTRL_TYPE_BUTTON) {
        return false;
    }
    v4l2_ext_control ext{};
    ext.id = c.id;
    v4l2_ext_controls all{};
    all.which = V4L2_CTRL_WHICH_CUR_VAL;
    all.count = 1;
    all.controls = &ext;
    if (dev.ioctl(VIDIOC_G_EXT_CTRLS, &all) == 0) {
        value = c.type == V4L2_CTRL_TYPE_INTEGER64 ? ext.value64
                : c.type == V4L2_CTRL_TYPE_BITMASK ? static_cast<uint32_t>(ext.value)
                                                   : ext.value;
        return true;
    }
    // libv4l2's own (emulated) controls answer the older call only.
    v4l2_control one{};
    one.id = c.id;
    if (c.type != V4L2_CTRL_TYPE_INTEGER64 && dev.ioctl(VIDIOC_G_CTRL, &one) == 0) {
        value = c.type == V4L2_CTRL_TYPE_BITMASK ? static_cast<uint32_t>(one.value) : one.value;
        return true;
    }
    return false;
}

int writeValue(const V4l2Device& dev, const V4l2Control& c, int64_t value) {
    if (c.type == V4L2_CTRL_TYPE_INTEGER64) {
        v4l2_ext_control ext{};
        ext.id = c.id;
        ext.value64 = value;
        v4l2_ext_controls all{};
        all.which = V4L2_CTRL_WHICH_CUR_VAL;
        all.count = 1;
        all.controls = &ext;
        return dev.ioctl(VIDIOC_S_EXT_CTRLS, &all);
    }
    v4l2_control one{};
    one.id = c.id;
    one.value = static_cast<int32_t>(value);
    return dev.ioctl(VIDIOC_S_CTRL, &one);
}

std::string hexText(int64_t value) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%08" PRIx64, static_cast<uint64_t>(value));
    return buf;
}

std::string menuEntryText(const V4l2Control& c, int64_t value) {
    for (const auto& [index, entry] : c.menu) {
        if (index == value) {
            return entry;
        }
    }
    return {};
}

}  // namespace

std::string controlIdentifier(const std::string& label) {
    std::string id;
    bool gap = false;
    for (const char ch : label) {
        const auto c = static_cast<unsigned char>(ch);
        if (std::isalnum(c) != 0) {
            if (gap && !id.empty()) {
                id += '_';
            }
            gap = false;
            id += static_cast<char>(std::tolower(c));
        } else {
            gap = true;
        }
    }
    return id;
}

std::vector<V4l2Control> queryControls(const V4l2Device& dev) {
    std::vector<V4l2Control> out;
    uint32_t next = V4L2_CTRL_FLAG_NEXT_CTRL;
    // Bounded: a driver that keeps answering the same id must not hold the program.
    for (int guard = 0; guard < 4096; ++guard) {
        v4l2_queryctrl q{};
        q.id = next;
        if (dev.ioctl(VIDIOC_QUERYCTRL, &q) != 0) {
            break;
        }
        if ((q.id | V4L2_CTRL_FLAG_NEXT_CTRL) == next) {
            break;
        }
        next = q.id | V4L2_CTRL_FLAG_NEXT_CTRL;
        if ((q.flags & V4L2_CTRL_FLAG_DISABLED) != 0) {
            continue;
        }
        V4l2Control c;
        c.id = q.id;
        c.type = q.type;
        c.flags = q.flags;
        c.label = cString(q.name, sizeof q.name);
        c.name = controlIdentifier(c.label);
        c.minimum = q.minimum;
        c.maximum = q.maximum;
        c.step = static_cast<uint64_t>(q.step);
        c.defaultValue = q.default_value;
        if (c.type == V4L2_CTRL_TYPE_INTEGER64) {
            // The older query has 32-bit fields: a 64-bit control's range comes from this one.
            v4l2_query_ext_ctrl e{};
            e.id = c.id;
            if (dev.ioctl(VIDIOC_QUERY_EXT_CTRL, &e) == 0) {
                c.minimum = e.minimum;
                c.maximum = e.maximum;
                c.step = e.step;
                c.defaultValue = e.default_value;
            }
        }
        if (c.type == V4L2_CTRL_TYPE_BITMASK) {
            // A mask of 32 bits, which the query hands over in signed fields.
            c.maximum = static_cast<uint32_t>(q.maximum);
            c.defaultValue = static_cast<uint32_t>(q.default_value);
        }
        if (hasMenu(c.type) && c.minimum >= 0 && c.maximum - c.minimum < 256) {
            for (int64_t i = c.minimum; i <= c.maximum; ++i) {
                v4l2_querymenu m{};
                m.id = c.id;
                m.index = static_cast<uint32_t>(i);
                if (dev.ioctl(VIDIOC_QUERYMENU, &m) != 0) {
                    continue;  // a hole in the menu
                }
                c.menu.emplace_back(i, c.type == V4L2_CTRL_TYPE_MENU
                                           ? cString(m.name, sizeof m.name)
                                           : std::to_string(m.value));
            }
        }
        c.hasValue = readValue(dev, c, c.value);
        out.push_back(std::move(c));
    }
    return out;
}

Result<std::vector<CameraControl>> parseControlList(const std::string& text) {
    std::vector<CameraControl> out;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(',', start);
        if (end == std::string::npos) {
            end = text.size();
        }
        const std::string item = text.substr(start, end - start);
        const size_t eq = item.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
            return Error{kExitUsage, "'" + item + "' is not NAME=VALUE"};
        }
        out.push_back(CameraControl{item.substr(0, eq), item.substr(eq + 1)});
        start = end + 1;
    }
    return out;
}

Result<int64_t> resolveControlValue(const V4l2Control& c, const std::string& text) {
    if ((c.flags & V4L2_CTRL_FLAG_READ_ONLY) != 0) {
        return Error{kExitUsage, "the control is read-only"};
    }
    if (!settableType(c.type)) {
        return Error{kExitUsage,
                     std::string("a ") + typeName(c.type) + " control cannot be set with --ctrl"};
    }
    if (c.type == V4L2_CTRL_TYPE_BUTTON) {
        return int64_t{1};  // pressing a button takes no value
    }
    if (c.type == V4L2_CTRL_TYPE_BOOLEAN) {
        for (const char* word : {"1", "true", "on", "yes"}) {
            if (equalsNoCase(text, word)) {
                return int64_t{1};
            }
        }
        for (const char* word : {"0", "false", "off", "no"}) {
            if (equalsNoCase(text, word)) {
                return int64_t{0};
            }
        }
        return Error{kExitUsage, "a boolean takes 0/1, true/false, on/off or yes/no"};
    }
    if (hasMenu(c.type)) {
        int64_t index = 0;
        for (const auto& [i, entry] : c.menu) {
            if (equalsNoCase(entry, text)) {
                return int64_t{i};
            }
        }
        if (parseWhole(text, index)) {
            for (const auto& [i, entry] : c.menu) {
                if (i == index) {
                    return int64_t{i};
                }
            }
        }
        std::string entries;
        for (const auto& [i, entry] : c.menu) {
            appendItem(entries, ", ", std::to_string(i) + " (" + entry + ")");
        }
        return Error{kExitUsage, "not one of its entries: " + entries};
    }
    int64_t v = 0;
    if (!parseWhole(text, v)) {
        return Error{kExitUsage, "not a whole number"};
    }
    if (c.type == V4L2_CTRL_TYPE_BITMASK) {
        if (v < 0 || (static_cast<uint64_t>(v) & ~static_cast<uint64_t>(c.maximum)) != 0) {
            return Error{kExitUsage, "has bits outside the mask " + hexText(c.maximum)};
        }
        return v;
    }
    if (v < c.minimum || v > c.maximum) {
        return Error{kExitUsage, "out of range " + std::to_string(c.minimum) + ".." +
                                     std::to_string(c.maximum)};
    }
    if (c.step > 1 && static_cast<uint64_t>(v - c.minimum) % c.step != 0) {
        return Error{kExitUsage, "not on its step of " + std::to_string(c.step) + " from " +
                                     std::to_string(c.minimum)};
    }
    return v;
}

Result<size_t> applyControls(const V4l2Device& dev, const std::vector<CameraControl>& controls) {
    if (controls.empty()) {
        return size_t{0};
    }
    const std::vector<V4l2Control> all = queryControls(dev);
    for (const CameraControl& want : controls) {
        const std::string given = "--ctrl " + want.name + "=" + want.value;
        const V4l2Control* found = nullptr;
        for (const V4l2Control& c : all) {
            if (c.name == want.name) {
                found = &c;
                break;
            }
        }
        if (found == nullptr) {
            return Error{kExitUsage, given + ": the device has no control '" + want.name +
                                         "' (see --list-controls)"};
        }
        const Result<int64_t> value = resolveControlValue(*found, want.value);
        if (!value) {
            return Error{kExitUsage, given + ": " + value.error().message};
        }
        if (const int rc = writeValue(dev, *found, value.value()); rc < 0) {
            return Error{kExitFailure, given + ": the device refused it: " + std::strerror(-rc)};
        }
    }
    return controls.size();
}

int listCameraControls(const std::string& device, FILE* out) {
    try {
        const V4l2Device dev = openCaptureDevice(device);
        const std::vector<V4l2Control> controls = queryControls(dev);
        std::fprintf(out, "%s: %s (driver %s, bus %s)\n", device.c_str(), dev.card().c_str(),
                     dev.driver().c_str(), dev.busInfo().c_str());
        std::fprintf(out, "%zu controls (set with --ctrl NAME=VALUE):\n", controls.size());
        for (const V4l2Control& c : controls) {
            if (c.type == V4L2_CTRL_TYPE_CTRL_CLASS) {
                std::fprintf(out, "%s\n", c.label.c_str());
                continue;
            }
            std::string line = "  " + c.name + " (" + typeName(c.type) + ")";
            const bool mask = c.type == V4L2_CTRL_TYPE_BITMASK;
            const auto number = [mask](int64_t v) { return mask ? hexText(v) : std::to_string(v); };
            if (mask) {
                line += " mask " + hexText(c.maximum);
            } else if (c.type != V4L2_CTRL_TYPE_BUTTON && c.type != V4L2_CTRL_TYPE_BOOLEAN &&
                       settableType(c.type)) {
                line += " " + std::to_string(c.minimum) + ".." + std::to_string(c.maximum);
                if (c.step > 1 && !hasMenu(c.type)) {
                    line += " step " + std::to_string(c.step);
                }
            }
            if (settableType(c.type) && c.type != V4L2_CTRL_TYPE_BUTTON) {
                line += " default " + number(c.defaultValue);
            }
            if (c.hasValue) {
                line += " value " + number(c.value);
                if (const std::string e = menuEntryText(c, c.value); !e.empty()) {
                    line += " (" + e + ")";
                }
            }
            std::string flags;
            if ((c.flags & V4L2_CTRL_FLAG_READ_ONLY) != 0) {
                appendItem(flags, " ", "read-only");
            }
            if ((c.flags & V4L2_CTRL_FLAG_WRITE_ONLY) != 0) {
                appendItem(flags, " ", "write-only");
            }
            if ((c.flags & V4L2_CTRL_FLAG_INACTIVE) != 0) {
                appendItem(flags, " ", "inactive");
            }
            if ((c.flags & V4L2_CTRL_FLAG_VOLATILE) != 0) {
                appendItem(flags, " ", "volatile");
            }
            if (!flags.empty()) {
                line += " [" + flags + "]";
            }
            std::fprintf(out, "%s\n", line.c_str());
            for (const auto& [index, entry] : c.menu) {
                std::fprintf(out, "      %" PRId64 ": %s\n", index, entry.c_str());
            }
        }
        std::fflush(out);
        return kExitOk;
    } catch (const StartupError& e) {
        printError(e.what());
        return e.exitCode();
    }
}

}  // namespace h265direct
