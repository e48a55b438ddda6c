// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <dlfcn.h>

#include <string>

namespace h265direct {

// Looks `symbol` up in a library opened with dlopen and stores it in `fn` (a pointer of the
// function's own type). False, with `error` naming the library and the symbol, when missing.
template <typename Fn>
bool bindSymbol(void* handle, const char* library, const char* symbol, Fn& fn, std::string& error) {
    void* address = dlsym(handle, symbol);
    if (address == nullptr) {
        error = std::string(library) + " has no " + symbol;
        return false;
    }
    fn = reinterpret_cast<Fn>(address);
    return true;
}

}  // namespace h265direct
