// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace h265direct {

// The q-quantile (0..1, nearest rank) of the samples; reorders them. 0 when empty.
inline int64_t percentile(std::vector<int64_t>& samples, double q) {
    if (samples.empty()) {
        return 0;
    }
    const double rank = std::ceil(q * static_cast<double>(samples.size()));
    size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
    index = std::min(index, samples.size() - 1);
    std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(index),
                     samples.end());
    return samples[index];
}

}  // namespace h265direct
