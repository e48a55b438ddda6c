// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "h265direct/engine.hpp"

namespace h265direct {
namespace {

// A signal that comes after the engine that took the signals is gone must not reach it (its
// stop flag and eventfd are freed by then): it ends the process at once, as a second signal
// does. Run in a child process, which the signal ends.
TEST(StopOnSignals, ASignalAfterTheEngineIsGoneEndsTheProcess) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        {
            Engine engine(EngineConfig{});
            engine.stopOnSignals();
        }
        kill(getpid(), SIGTERM);
        // Only the signal ends the child early; otherwise it ends here, with 0.
        for (int i = 0; i < 100; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
}

// While the engine is there, the first signal asks it to stop (and does not end the process).
TEST(StopOnSignals, TheFirstSignalStopsTheRun) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        EngineConfig config;
        config.source.pace = true;  // 30 fps: the run lasts until the signal
        Engine engine(config);
        engine.stopOnSignals();
        std::thread sender([] { kill(getpid(), SIGTERM); });
        const int rc = engine.run();
        sender.join();
        _exit(rc == kExitOk ? 42 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 42);
}

}  // namespace
}  // namespace h265direct
