// SPDX-License-Identifier: GPL-2.0-or-later
#include "engine/output_sinks.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"

namespace h265direct {
namespace {

constexpr const char* kTag = "output";

class FileSink final : public Sink {
public:
    FileSink(UniqueFd owned, int fd, std::string path)
        : owned_(std::move(owned)), fd_(fd), path_(std::move(path)) {}

    const char* name() const override { return "file"; }

    void consume(const AccessUnitPtr& au) override {
        if (failed_) {
            return;
        }
        const uint8_t* p = au->data.data();
        size_t left = au->data.size();
        while (left > 0) {
            const ssize_t n = ::write(fd_, p, left);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                LOG_ERROR(kTag, "writing %s failed: %s", display(), strerror(errno));
                failed_ = true;
                return;
            }
            p += n;
            left -= static_cast<size_t>(n);
        }
    }

    void finish() override {
        // No fsync: the bytes are in the page cache; close() errors (e.g. NFS) still count.
        if (owned_ && ::close(owned_.release()) != 0 && !failed_) {
            LOG_ERROR(kTag, "closing %s failed: %s", display(), strerror(errno));
            failed_ = true;
        }
    }

    int fatalError() const override { return failed_ ? kExitOutput : 0; }

private:
    const char* display() const { return path_ == "-" ? "stdout" : path_.c_str(); }

    UniqueFd owned_;
    int fd_;
    std::string path_;
    bool failed_ = false;
};

class CallbackSink final : public Sink {
public:
    explicit CallbackSink(std::function<void(const AccessUnitPtr&)> callback)
        : callback_(std::move(callback)) {}
    const char* name() const override { return "callback"; }
    void consume(const AccessUnitPtr& au) override { callback_(au); }

private:
    std::function<void(const AccessUnitPtr&)> callback_;
};

}  // namespace

std::unique_ptr<Sink> makeFileSink(const std::string& path) {
    if (path == "-") {
        return std::make_unique<FileSink>(UniqueFd(), STDOUT_FILENO, path);
    }
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) {
        throw StartupError(kExitOutput, "-o " + path + ": " + strerror(errno));
    }
    const int raw = fd.get();
    return std::make_unique<FileSink>(std::move(fd), raw, path);
}

std::unique_ptr<Sink> makeCallbackSink(std::function<void(const AccessUnitPtr&)> callback) {
    return std::make_unique<CallbackSink>(std::move(callback));
}

}  // namespace h265direct
