#include <cstdio>

#include "h265direct/engine.hpp"

int main() {
    std::printf("h265direct %s\n", H265D_VERSION);
    return 0;
}
