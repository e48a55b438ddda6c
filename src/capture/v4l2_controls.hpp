// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "capture/v4l2_device.hpp"
#include "core/error.hpp"
#include "h265direct/config.hpp"

// V4L2 controls (exposure, gain, white balance, power-line frequency...): listed for
// --list-controls and set from --ctrl NAME=VALUE, by the names v4l2-ctl uses.

namespace h265direct {

struct V4l2Control {
    uint32_t id = 0;
    uint32_t type = 0;  // V4L2_CTRL_TYPE_*
    uint32_t flags = 0;
    std::string name;   // the identifier: "white_balance_automatic"
    std::string label;  // the driver's name: "White Balance, Automatic"
    int64_t minimum = 0;
    int64_t maximum = 0;
    uint64_t step = 0;
    int64_t defaultValue = 0;
    int64_t value = 0;
    bool hasValue = false;                              // read when listed
    std::vector<std::pair<int64_t, std::string>> menu;  // index and entry (or number)
};

// A driver's control name as v4l2-ctl writes it: lower case, each run of other characters
// than letters and digits one '_', none at either end ("Power Line Frequency" ->
// "power_line_frequency").
std::string controlIdentifier(const std::string& label);

// Every control of the device (classes left out), with the current value of those that
// can be read.
std::vector<V4l2Control> queryControls(const V4l2Device& dev);

// Parses the text of --ctrl: NAME=VALUE, several separated by commas
// ("brightness=200,contrast=90"). On a bad item an Error (kExitUsage) saying which.
Result<std::vector<CameraControl>> parseControlList(const std::string& text);

// The value a control would take from `text`: a whole number (0x.. accepted), for a boolean
// also true/false/on/off/yes/no, for a menu also an entry's name (any case). An Error
// (kExitUsage) with the reason when the control cannot take it (out of range, off the step,
// not an entry, read-only, a type --ctrl cannot set).
Result<int64_t> resolveControlValue(const V4l2Control& control, const std::string& text);

// Sets `controls` on the device in their order; the number set, or an Error whose one-line
// message names --ctrl and the control: kExitUsage for a name the device does not have or a
// value it cannot take, kExitFailure when the driver refuses one.
Result<size_t> applyControls(const V4l2Device& dev, const std::vector<CameraControl>& controls);

// --list-controls: prints the device's controls to `out` (name, type, range, step,
// default, current value, flags, menu entries). Returns an ExitCode; errors go to stderr.
int listCameraControls(const std::string& device, FILE* out);

}  // namespace h265direct
