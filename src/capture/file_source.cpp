// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture/file_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "capture/paced_source.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "frame/pixel_format.hpp"

namespace h265direct {

namespace {

class FileSource final : public PacedSource {
public:
    FileSource(const FrameFormat& format, const FrameLayout& layout, const SourceConfig& config,
               UniqueFd fd, bool seekable, off_t fileBytes)
        : PacedSource(format, layout, config.pace),
          path_(config.path),
          fd_(std::move(fd)),
          loop_(config.loop),
          seekable_(seekable),
          fileBytes_(fileBytes) {}

    std::string describe() const override {
        std::string text = "file " + path_ + " " + describeFormat();
        if (fileBytes_ > 0) {
            text += ", " + std::to_string(size_t(fileBytes_) / layout().frameBytes) + " frames";
        }
        return text + (loop_ ? ", looped" : "");
    }

protected:
    Status produce(uint8_t* frame, uint64_t /*index*/) override {
        for (int attempt = 0; attempt < 2; ++attempt) {
            const ssize_t got = readFrame(frame);
            if (got < 0) {
                return Status::Error;
            }
            if (size_t(got) == layout().frameBytes) {
                ++framesThisPass_;
                return Status::Ok;
            }
            if (got > 0 && !partialReported_) {
                // Reported once: with --loop it would come back every pass.
                partialReported_ = true;
                LOG_WARN("capture",
                         "%s: trailing partial frame of %zd bytes (a frame is %zu) not encoded",
                         path_.c_str(), got, layout().frameBytes);
            }
            if (!loop_ || framesThisPass_ == 0) {
                return Status::EndOfStream;
            }
            if (!seekable_ || lseek(fd_.get(), 0, SEEK_SET) != 0) {
                LOG_WARN("capture", "%s: cannot start again at the beginning (not seekable)",
                         path_.c_str());
                return Status::EndOfStream;
            }
            framesThisPass_ = 0;
        }
        return Status::EndOfStream;
    }

private:
    // Bytes read: a whole frame, fewer at the end of the input, or -1 on a read error.
    ssize_t readFrame(uint8_t* frame) {
        const size_t want = layout().frameBytes;
        size_t have = 0;
        while (have < want) {
            const ssize_t n = ::read(fd_.get(), frame + have, want - have);
            if (n == 0) {
                break;
            }
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                LOG_ERROR("capture", "%s: read: %s", path_.c_str(), std::strerror(errno));
                return -1;
            }
            have += size_t(n);
        }
        return ssize_t(have);
    }

    std::string path_;
    UniqueFd fd_;
    bool loop_;
    bool seekable_;
    off_t fileBytes_;  // 0 when unknown (a pipe)
    uint64_t framesThisPass_ = 0;
    bool partialReported_ = false;
};

}  // namespace

std::unique_ptr<FrameSource> openFileSource(const SourceConfig& config) {
    if (config.path.empty()) {
        throw StartupError(kExitUsage, "--input: no file named");
    }
    if (config.fourcc == 0) {
        throw StartupError(kExitUsage, "--input " + config.path +
                                           ": raw video needs --pixel-format (e.g. YUYV, "
                                           "I420)");
    }
    const FrameLayout layout = checkRawSourceConfig(config, config.fourcc);
    const std::string frameText =
        std::to_string(config.width) + "x" + std::to_string(config.height) + " " +
        fourccToString(config.fourcc) + " frame (" + std::to_string(layout.frameBytes) + " bytes)";

    UniqueFd fd(config.path == "-" ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0)
                                   : ::open(config.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw StartupError(kExitInput, "--input " + config.path + ": " + std::strerror(errno));
    }
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) {
        throw StartupError(kExitInput, "--input " + config.path + ": " + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        throw StartupError(kExitInput, "--input " + config.path + ": " + std::strerror(EISDIR));
    }
    const bool regular = S_ISREG(st.st_mode);
    if (regular) {
        const auto bytes = static_cast<size_t>(st.st_size);
        if (bytes < layout.frameBytes) {
            throw StartupError(kExitInput, "--input " + config.path + ": " + std::to_string(bytes) +
                                               " bytes, less than one " + frameText);
        }
        posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    FrameFormat format;
    format.fourcc = config.fourcc;
    format.width = config.width;
    format.height = config.height;
    format.fpsNum = config.fpsNum;
    format.fpsDen = config.fpsDen;
    format.strides = layout.strides;
    return std::make_unique<FileSource>(format, layout, config, std::move(fd), regular,
                                        regular ? st.st_size : off_t{0});
}

}  // namespace h265direct
