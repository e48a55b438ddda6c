// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/status.hpp"

namespace h265direct {

const char* toString(Status s) {
    switch (s) {
        case Status::Ok:
            return "ok";
        case Status::Again:
            return "again";
        case Status::Stopped:
            return "stopped";
        case Status::EndOfStream:
            return "end of stream";
        case Status::DeviceLost:
            return "device lost";
        case Status::Error:
            return "error";
    }
    return "?";
}

}  // namespace h265direct
