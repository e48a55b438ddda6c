// SPDX-License-Identifier: GPL-2.0-or-later
#include "capture/v4l2_device.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <libv4l2.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/text.hpp"

namespace h265direct {

namespace {

constexpr const char* kTag = "camera";

std::string cString(const uint8_t* text, size_t size) {
    size_t n = 0;
    while (n < size && text[n] != 0) {
        ++n;
    }
    return std::string(reinterpret_cast<const char*>(text), n);
}

FrameRate rateOf(const v4l2_fract& interval) {
    // A time per frame of n/d seconds is d/n frames per second.
    return FrameRate{static_cast<int>(interval.denominator), static_cast<int>(interval.numerator)};
}

}  // namespace

V4l2Device::V4l2Device(V4l2Device&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      capability_(other.capability_),
      caps_(other.caps_),
      multiplanar_(other.multiplanar_) {}

V4l2Device& V4l2Device::operator=(V4l2Device&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        path_ = std::move(other.path_);
        capability_ = other.capability_;
        caps_ = other.caps_;
        multiplanar_ = other.multiplanar_;
    }
    return *this;
}

namespace {

// libv4l2 prints its own error lines on stderr (including for the EAGAIN of a non-blocking
// DQBUF, which is normal here). Every failure is reported by us with its context, so its
// lines go to /dev/null unless debug logging is on or the program chose a log file itself.
void quietLibv4l2() {
    static const bool done = [] {
        if (v4l2_log_file == nullptr && !logEnabled(LogLevel::Debug)) {
            v4l2_log_file = std::fopen("/dev/null", "we");
        }
        return true;
    }();
    (void)done;
}

}  // namespace

int V4l2Device::open(const std::string& path) {
    quietLibv4l2();
    close();
    path_ = path;
    // The node is opened and identified with plain system calls first: libv4l2 would print
    // its own complaint on stderr for anything that is not a V4L2 device, and the user gets
    // a clearer one from us. Only a V4L2 node is handed over to libv4l2.
    int raw = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (raw < 0) {
        return -errno;
    }
    v4l2_capability cap{};
    int rc;
    do {
        rc = ::ioctl(raw, VIDIOC_QUERYCAP, &cap);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        const int err = errno;
        ::close(raw);
        return -err;
    }
    const uint32_t rawCaps =
        (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
    multiplanar_ =
        (rawCaps & V4L2_CAP_VIDEO_CAPTURE) == 0 && (rawCaps & V4L2_CAP_VIDEO_CAPTURE_MPLANE) != 0;
    if (multiplanar_) {
        // libv4l2 would load its mplane plugin here, which announces itself on stdout (the
        // stream with -o -) and cannot handle the formats whose planes have buffers of
        // their own: this node is used with the plain system calls.
        fd_ = raw;
        capability_ = cap;
        caps_ = rawCaps;
        return 0;
    }
    if (v4l2_fd_open(raw, 0) < 0) {
        const int err = errno;
        ::close(raw);
        return -(err != 0 ? err : ENODEV);
    }
    fd_ = raw;
    // Ask again through libv4l2: with a plugin it may present the device differently.
    if (ioctl(VIDIOC_QUERYCAP, &cap) < 0) {
        std::memset(&cap, 0, sizeof cap);
    }
    capability_ = cap;
    caps_ = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
    return 0;
}

void V4l2Device::close() {
    if (fd_ >= 0) {
        if (multiplanar_) {
            ::close(fd_);
        } else {
            v4l2_close(fd_);
        }
        fd_ = -1;
    }
}

int V4l2Device::ioctl(unsigned long request, void* arg) const {
    for (;;) {
        const int rc = multiplanar_ ? ::ioctl(fd_, request, arg) : v4l2_ioctl(fd_, request, arg);
        if (rc == 0) {
            return 0;
        }
        if (errno != EINTR) {
            return -errno;
        }
    }
}

void* V4l2Device::map(size_t length, uint32_t offset) const {
    void* p = multiplanar_
                  ? ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, offset)
                  : v4l2_mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, offset);
    return p == MAP_FAILED ? nullptr : p;
}

void V4l2Device::unmap(void* start, size_t length) const {
    if (multiplanar_) {
        ::munmap(start, length);
    } else {
        v4l2_munmap(start, length);
    }
}

std::string V4l2Device::driver() const {
    return cString(capability_.driver, sizeof capability_.driver);
}
std::string V4l2Device::card() const {
    return cString(capability_.card, sizeof capability_.card);
}
std::string V4l2Device::busInfo() const {
    return cString(capability_.bus_info, sizeof capability_.bus_info);
}

RateCaps V4l2Device::enumerateRates(uint32_t fourcc, int width, int height) const {
    RateCaps caps;
    for (uint32_t i = 0;; ++i) {
        v4l2_frmivalenum iv{};
        iv.index = i;
        iv.pixel_format = fourcc;
        iv.width = static_cast<uint32_t>(width);
        iv.height = static_cast<uint32_t>(height);
        if (ioctl(VIDIOC_ENUM_FRAMEINTERVALS, &iv) < 0) {
            break;
        }
        if (iv.type == V4L2_FRMIVAL_TYPE_DISCRETE) {
            const FrameRate r = rateOf(iv.discrete);
            if (r.valid()) {
                caps.discrete.push_back(r);
            }
        } else {
            // Continuous or stepwise: the shortest interval is the fastest rate.
            const FrameRate fastest = rateOf(iv.stepwise.min);
            const FrameRate slowest = rateOf(iv.stepwise.max);
            if (fastest.valid() && slowest.valid()) {
                caps.fastest = fastest;
                caps.slowest = slowest;
            }
            break;
        }
    }
    return caps;
}

std::vector<CameraFormatDesc> V4l2Device::enumerateFormats(int wantWidth, int wantHeight) const {
    std::vector<CameraFormatDesc> formats;
    for (uint32_t i = 0;; ++i) {
        v4l2_fmtdesc fd{};
        fd.index = i;
        fd.type = bufferType();
        if (ioctl(VIDIOC_ENUM_FMT, &fd) < 0) {
            break;
        }
        CameraFormatDesc f;
        f.fourcc = fd.pixelformat;
        f.description = cString(fd.description, sizeof fd.description);
        f.emulated = (fd.flags & V4L2_FMT_FLAG_EMULATED) != 0;
        f.compressed = (fd.flags & V4L2_FMT_FLAG_COMPRESSED) != 0;
        for (uint32_t j = 0;; ++j) {
            v4l2_frmsizeenum fs{};
            fs.index = j;
            fs.pixel_format = fd.pixelformat;
            if (ioctl(VIDIOC_ENUM_FRAMESIZES, &fs) < 0) {
                break;
            }
            SizeCaps s;
            if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
                s.width = static_cast<int>(fs.discrete.width);
                s.height = static_cast<int>(fs.discrete.height);
                s.rates = enumerateRates(f.fourcc, s.width, s.height);
                f.sizes.push_back(std::move(s));
            } else {
                s.range = true;
                s.width = static_cast<int>(fs.stepwise.min_width);
                s.height = static_cast<int>(fs.stepwise.min_height);
                s.maxWidth = static_cast<int>(fs.stepwise.max_width);
                s.maxHeight = static_cast<int>(fs.stepwise.max_height);
                s.stepWidth = static_cast<int>(std::max(fs.stepwise.step_width, 1u));
                s.stepHeight = static_cast<int>(std::max(fs.stepwise.step_height, 1u));
                if (wantWidth > 0 && s.contains(wantWidth, wantHeight)) {
                    s.rates = enumerateRates(f.fourcc, wantWidth, wantHeight);
                }
                f.sizes.push_back(std::move(s));
                break;
            }
        }
        formats.push_back(std::move(f));
    }
    return formats;
}

std::vector<VideoNode> listVideoNodes(const std::string& dir) {
    std::vector<std::pair<int, std::string>> paths;
    if (DIR* d = ::opendir(dir.c_str())) {
        while (const dirent* e = ::readdir(d)) {
            const std::string path = dir + "/" + e->d_name;
            if (const int n = videoNodeNumber(path); n >= 0) {
                paths.emplace_back(n, path);
            }
        }
        ::closedir(d);
    }
    std::sort(paths.begin(), paths.end());
    std::vector<VideoNode> nodes;
    for (const auto& [number, path] : paths) {
        const int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        v4l2_capability cap{};
        int rc;
        do {
            rc = ::ioctl(fd, VIDIOC_QUERYCAP, &cap);
        } while (rc < 0 && errno == EINTR);
        ::close(fd);
        if (rc < 0) {
            continue;
        }
        const uint32_t caps =
            (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
        VideoNode node;
        node.path = path;
        node.identity.card = cString(cap.card, sizeof cap.card);
        node.identity.busInfo = cString(cap.bus_info, sizeof cap.bus_info);
        node.canCapture = (caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE)) != 0 &&
                          (caps & V4L2_CAP_STREAMING) != 0;
        nodes.push_back(std::move(node));
    }
    return nodes;
}

std::string capabilityText(uint32_t caps) {
    static const std::pair<uint32_t, const char*> kNames[] = {
        {V4L2_CAP_VIDEO_CAPTURE, "video-capture"},
        {V4L2_CAP_VIDEO_CAPTURE_MPLANE, "video-capture-multiplanar"},
        {V4L2_CAP_VIDEO_OUTPUT, "video-output"},
        {V4L2_CAP_VIDEO_OUTPUT_MPLANE, "video-output-multiplanar"},
        {V4L2_CAP_VIDEO_M2M, "memory-to-memory"},
        {V4L2_CAP_VIDEO_M2M_MPLANE, "memory-to-memory-multiplanar"},
        {V4L2_CAP_VBI_CAPTURE, "vbi-capture"},
        {V4L2_CAP_SLICED_VBI_CAPTURE, "sliced-vbi-capture"},
        {V4L2_CAP_RADIO, "radio"},
        {V4L2_CAP_SDR_CAPTURE, "sdr-capture"},
        {V4L2_CAP_META_CAPTURE, "metadata-capture"},
        {V4L2_CAP_TOUCH, "touch"},
        {V4L2_CAP_READWRITE, "read-write"},
        {V4L2_CAP_STREAMING, "streaming"},
    };
    std::string text;
    for (const auto& [bit, name] : kNames) {
        if (caps & bit) {
            appendItem(text, " ", name);
        }
    }
    return text.empty() ? "none" : text;
}

void throwDeviceError(const std::string& path, const std::string& what, int err) {
    if (err < 0) {
        err = -err;
    }
    const std::string reason = std::strerror(err);
    switch (err) {
        case ENOENT:
        case ENXIO:
            throw StartupError(kExitInput, path + ": no such device (" + reason +
                                               "); list cameras with `v4l2-ctl --list-devices`");
        case EACCES:
        case EPERM:
            throw StartupError(kExitInput, path +
                                               ": permission denied (is the user in the "
                                               "'video' group?)");
        case EBUSY:
            throw StartupError(kExitDeviceBusy, path + ": the device is busy (" + what + ": " +
                                                    reason + "); another program is using it");
        case ENOTTY:
            throw StartupError(kExitNotCapture,
                               path + ": not a V4L2 video device (" + what + ": " + reason + ")");
        case ENODEV:
            throw StartupError(kExitInput,
                               path + ": the device is gone (" + what + ": " + reason + ")");
        default:
            throw StartupError(kExitFailure, path + ": " + what + " failed: " + reason);
    }
}

V4l2Device openCaptureDevice(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) < 0) {
        throwDeviceError(path, "open", errno);
    }
    if (!S_ISCHR(st.st_mode)) {
        throw StartupError(kExitNotCapture,
                           path + ": not a video device (" +
                               (S_ISDIR(st.st_mode) ? "a directory" : "not a character device") +
                               "); give a V4L2 capture node such as /dev/video0");
    }
    V4l2Device dev;
    if (const int rc = dev.open(path); rc < 0) {
        throwDeviceError(path, rc == -ENOTTY ? "VIDIOC_QUERYCAP" : "open", rc);
    }
    if (!dev.canCapture()) {
        std::string hint;
        if (dev.caps() & V4L2_CAP_META_CAPTURE) {
            hint = " (a camera's metadata node; its video node is usually the one before it)";
        }
        throw StartupError(kExitNotCapture, path + ": " + dev.card() + " (" + dev.driver() +
                                                ") cannot capture video; it offers: " +
                                                capabilityText(dev.caps()) + hint);
    }
    if (!dev.canStream()) {
        throw StartupError(kExitNotCapture, path + ": " + dev.card() + " (" + dev.driver() +
                                                ") cannot stream with mmap buffers (offers: " +
                                                capabilityText(dev.caps()) + ")");
    }
    LOG_DEBUG(kTag, "%s: %s (%s, %s), capabilities: %s", path.c_str(), dev.card().c_str(),
              dev.driver().c_str(), dev.busInfo().c_str(), capabilityText(dev.caps()).c_str());
    return dev;
}

}  // namespace h265direct
