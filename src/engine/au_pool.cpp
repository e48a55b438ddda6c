// SPDX-License-Identifier: GPL-2.0-or-later
#include "engine/au_pool.hpp"

namespace h265direct {

AccessUnitPool::AccessUnitPool(size_t keepAtMost) : state_(std::make_shared<State>()) {
    state_->keepAtMost = keepAtMost;
}

std::shared_ptr<AccessUnit> AccessUnitPool::acquire() {
    std::unique_ptr<AccessUnit> unit;
    {
        std::lock_guard lock(state_->mutex);
        if (!state_->free.empty()) {
            unit = std::move(state_->free.back());
            state_->free.pop_back();
        }
    }
    if (!unit) {
        unit = std::make_unique<AccessUnit>();
    }
    // The deleter holds the pool state, so units handed out may outlive the pool object.
    return std::shared_ptr<AccessUnit>(unit.release(), [state = state_](AccessUnit* au) {
        std::unique_ptr<AccessUnit> back(au);
        std::lock_guard lock(state->mutex);
        if (state->free.size() < state->keepAtMost) {
            // Keep the vectors' capacity; reset everything else.
            back->data.clear();
            back->nals.clear();
            std::vector<uint8_t> data = std::move(back->data);
            std::vector<NalUnitInfo> nals = std::move(back->nals);
            *back = AccessUnit{};
            back->data = std::move(data);
            back->nals = std::move(nals);
            state->free.push_back(std::move(back));
        }
    });
}

}  // namespace h265direct
