// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "h265direct/access_unit.hpp"

namespace h265direct {

// Recycles AccessUnit objects (and their byte/NAL vectors' capacity) so that the frame path
// allocates nothing once warm. A unit returns to the pool when its last reference goes,
// from whichever thread drops it (a network sink's loop, a library user's callback).
class AccessUnitPool {
public:
    explicit AccessUnitPool(size_t keepAtMost = 32);
    // A cleared unit, ready to fill. Exclusive to the caller until published as AccessUnitPtr.
    std::shared_ptr<AccessUnit> acquire();

private:
    struct State {
        std::mutex mutex;
        std::vector<std::unique_ptr<AccessUnit>> free;
        size_t keepAtMost = 0;
    };
    std::shared_ptr<State> state_;
};

}  // namespace h265direct
