#pragma once

#include <string>
#include <string_view>

namespace h265direct {

// Appends item to a list of words, with separator between items: the way to build a list
// for a message. (Not `list += (list.empty() ? "" : sep) + item`, which builds a temporary
// string per item, and in which GCC 12 at -O3 reports a false -Wrestrict.)
inline void appendItem(std::string& list, std::string_view separator, std::string_view item) {
    if (!list.empty()) {
        list += separator;
    }
    list += item;
}

}  // namespace h265direct
