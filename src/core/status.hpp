// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

namespace h265direct {

// Outcomes the frame path recovers from, apart from plain errors (negative errno).
enum class Status {
    Ok,
    Again,        // nothing yet (timeout, EAGAIN); try again
    Stopped,      // a stop was requested
    EndOfStream,  // the source has no more frames
    DeviceLost,   // the device vanished; it may come back
    Error,        // failed; see the logged message / errno
};

const char* toString(Status s);

}  // namespace h265direct
