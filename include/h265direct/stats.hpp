// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace h265direct {

// The figures of one stats interval, in the order they were added. Printed as one text
// line, or as one JSON object (--stats-json).
class StatsReport {
public:
    using Value = std::variant<int64_t, double, std::string>;
    struct Field {
        std::string key;  // snake_case, used as the JSON key
        Value value;
        std::string unit;   // shown in the text line only
        int precision = 0;  // digits after the point for doubles
    };

    void add(std::string key, int64_t value, std::string unit = {});
    void add(std::string key, double value, std::string unit = {}, int precision = 1);
    void add(std::string key, std::string value);
    void add(Field field) { fields_.push_back(std::move(field)); }
    const std::vector<Field>& fields() const { return fields_; }
    const Field* find(const std::string& key) const;
    void clear() { fields_.clear(); }

    std::string toText() const;
    std::string toJson() const;

private:
    std::vector<Field> fields_;
};

}  // namespace h265direct
