// SPDX-License-Identifier: GPL-2.0-or-later
// The Python module `h265direct` (pybind11): the engine with the program's options, its access
// units as Python objects, stats, stop from any thread or a signal handler.
//
// The engine runs on a thread of its own and never takes the GIL. Its access units go through
// a bounded queue (QueueSink) to the Python thread that iterates the engine or calls run(); that
// thread waits for them with the GIL released. When Python is slower than the encoder the
// engine either waits for room (overflow="block", the default: nothing is lost, the source's own
// counters report the frames it could not take) or drops whole access units up to the next
// keyframe and asks for one (overflow="drop"), counting each dropped one (py_drops).
//
// One file (about 550 lines): pybind11 defines a module in one translation unit, and the queue
// sink, the engine's thread and the bindings share the life of one Python Engine object.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "app/cmdline.hpp"
#include "app/options.hpp"
#include "core/log.hpp"
#include "h265direct/engine.hpp"

namespace py = pybind11;

namespace h265direct {
namespace {

enum class Overflow { Block, Drop };

// What the engine thread hands to the Python thread.
struct Channel {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<AccessUnitPtr> queue;
    size_t limit = 64;
    Overflow overflow = Overflow::Block;
    bool closed = false;              // stop() or the end: consume() no longer waits
    bool awaitingKeyframe = false;    // Drop: dropping until the next keyframe
    uint64_t dropped = 0;             // access units dropped here (Drop), in total
    uint64_t delivered = 0;           // access units queued for Python, in total
    std::deque<StatsReport> reports;  // for the stats callback, in order
    bool wantReports = false;
    std::optional<StatsReport> latest;
    bool finished = false;  // run() returned
    int exitCode = 0;
    std::string error;
};

// The engine's output to Python.
class QueueSink final : public Sink {
public:
    QueueSink(std::shared_ptr<Channel> channel, Engine& engine)
        : channel_(std::move(channel)), engine_(engine) {}
    const char* name() const override { return "python"; }

    void consume(const AccessUnitPtr& au) override {
        bool askKeyframe = false;
        {
            std::unique_lock lock(channel_->mutex);
            Channel& c = *channel_;
            if (c.overflow == Overflow::Block) {
                c.changed.wait(lock, [&] { return c.queue.size() < c.limit || c.closed; });
            } else if (!c.closed) {
                // A stream cut short decodes again only from a keyframe: after a drop, the
                // access units up to the next keyframe go too, and one is asked for.
                if (c.awaitingKeyframe && !au->keyframe) {
                    ++c.dropped;
                    return;
                }
                c.awaitingKeyframe = c.queue.size() >= c.limit;
                if (c.awaitingKeyframe) {
                    ++c.dropped;
                    askKeyframe = true;
                }
            }
            if (!askKeyframe) {
                c.queue.push_back(au);
                ++c.delivered;
            }
        }
        channel_->changed.notify_all();
        if (askKeyframe) {
            engine_.requestKeyframe();
        }
    }

    void collectStats(StatsReport& report) override {
        std::lock_guard lock(channel_->mutex);
        report.add("py_queue", static_cast<int64_t>(channel_->queue.size()), "AU");
        report.add("py_drops", static_cast<int64_t>(channel_->dropped));
    }

private:
    std::shared_ptr<Channel> channel_;
    Engine& engine_;
};

// The module's exceptions: h265direct.Error(exit_code, message), and OptionError (also a
// ValueError) for a bad option, with the program's message and exit code 2.
py::handle errorType;
py::handle optionErrorType;

[[noreturn]] void raiseError(py::handle type, int exitCode, const std::string& message) {
    py::object e = type(message);
    e.attr("exit_code") = exitCode;
    PyErr_SetObject(type.ptr(), e.ptr());
    throw py::error_already_set();
}

py::object statsToDict(const StatsReport& report) {
    py::dict d;
    for (const auto& f : report.fields()) {
        std::visit([&](const auto& v) { d[py::str(f.key)] = v; }, f.value);
    }
    return d;
}

// One access unit as Python sees it: the shared bytes, no copy until asked.
struct PyAccessUnit {
    AccessUnitPtr au;
};

// kwargs -> the program's command line: name=value -> --name=value (underscores become
// dashes; one letter: -x VALUE), True -> --name, False and None -> nothing, a list or tuple
// -> the option once per item (user=["a:x", "b:y"] -> --user=a:x --user=b:y).
std::vector<std::string> optionArgs(const py::kwargs& kwargs) {
    std::vector<std::string> args;
    for (const auto& [key, value] : kwargs) {
        std::string name = py::str(key);
        for (char& ch : name) {
            if (ch == '_') {
                ch = '-';
            }
        }
        const bool shortName = name.size() == 1;
        const std::string flag = (shortName ? "-" : "--") + name;
        if (value.is_none() || (py::isinstance<py::bool_>(value) && !value.cast<bool>())) {
            continue;
        }
        if (py::isinstance<py::bool_>(value)) {
            args.push_back(flag);
            continue;
        }
        if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
            for (const py::handle item : value) {
                args.push_back(flag + "=" + std::string(py::str(item)));
            }
            continue;
        }
        const std::string text = py::str(value);
        if (shortName) {
            args.push_back(flag);
            args.push_back(text);
        } else {
            args.push_back(flag + "=" + text);
        }
    }
    return args;
}

class PyEngine {
public:
    explicit PyEngine(const py::kwargs& kwargs) : channel_(std::make_shared<Channel>()) {
        AppOptions options;
        const std::vector<std::string> args = optionArgs(kwargs);
        try {
            if (!parseOptionList(args, options)) {
                throw cli::UsageError{
                    "--help, --version and --print-config print and exit: an Engine has "
                    "nothing to run with them"};
            }
        } catch (const cli::UsageError& e) {
            raiseError(optionErrorType, kExitUsage, e.message);
        }
        if (options.engine.source.camera.listFormats) {
            raiseError(optionErrorType, kExitUsage,
                       "--list-formats prints and exits: use the program (h265direct -d DEVICE "
                       "--list-formats)");
        }
        // As the program does: -q errors only, -vv debug messages (the level is the
        // process's: the last Engine made sets it).
        static const LogLevel initialLevel = logLevel();
        if (options.engine.stats.quiet) {
            setLogLevel(LogLevel::Error);
        } else if (options.verbosity >= 2) {
            setLogLevel(LogLevel::Debug);
        } else {
            setLogLevel(initialLevel);
        }
        engine_ = std::make_unique<Engine>(options.engine);
    }

    ~PyEngine() {
        if (thread_.joinable()) {
            stop();
            py::gil_scoped_release nogil;
            thread_.join();
        }
    }

    void onAccessUnit(py::object callback) { auCallback_ = std::move(callback); }
    void onStats(py::object callback) {
        statsCallback_ = std::move(callback);
        std::lock_guard lock(channel_->mutex);
        channel_->wantReports = !statsCallback_.is_none();
    }

    // Starts the engine's thread with this queue policy (once per Engine).
    void start(size_t queueSize, const std::string& overflow) {
        if (started_) {
            throw py::value_error("the engine has already started (an Engine runs once)");
        }
        if (queueSize < 1) {
            throw py::value_error("queue_size must be at least 1");
        }
        if (overflow != "block" && overflow != "drop") {
            throw py::value_error("overflow must be 'block' or 'drop', not '" + overflow + "'");
        }
        {
            std::lock_guard lock(channel_->mutex);
            channel_->limit = queueSize;
            channel_->overflow = overflow == "drop" ? Overflow::Drop : Overflow::Block;
        }
        started_ = true;
        engine_->addSink(std::make_unique<QueueSink>(channel_, *engine_));
        engine_->onStats([c = channel_](const StatsReport& report) {
            {
                std::lock_guard lock(c->mutex);
                c->latest = report;
                if (c->wantReports) {
                    c->reports.push_back(report);
                }
            }
            c->changed.notify_all();
        });
        thread_ = std::thread([this, c = channel_] {
            const int rc = engine_->run();
            std::string error = rc == 0 ? std::string() : engine_->lastError();
            {
                std::lock_guard lock(c->mutex);
                c->finished = true;
                c->closed = true;
                c->exitCode = rc;
                c->error = error.empty() && rc != 0
                               ? "the engine ended with exit code " + std::to_string(rc)
                               : error;
            }
            c->changed.notify_all();
        });
    }

    // The next access unit; nullptr at the end of a successful run. Raises Error after a
    // failed one, and whatever a signal handler or the stats callback raises.
    std::shared_ptr<PyAccessUnit> next() {
        if (!started_) {
            start(kDefaultQueue, "block");
        }
        for (;;) {
            AccessUnitPtr au;
            std::deque<StatsReport> reports;
            bool finished = false;
            {
                py::gil_scoped_release nogil;
                std::unique_lock lock(channel_->mutex);
                Channel& c = *channel_;
                // Woken by every event; the period only lets Python run its signal handlers
                // (they run on this thread, between bytecodes).
                c.changed.wait_for(lock, std::chrono::milliseconds(100), [&] {
                    return !c.queue.empty() || !c.reports.empty() || c.finished;
                });
                reports.swap(c.reports);
                if (!c.queue.empty()) {
                    au = std::move(c.queue.front());
                    c.queue.pop_front();
                } else {
                    finished = c.finished;
                }
            }
            channel_->changed.notify_all();
            // Python's signal handlers run here (a handler may call stop()), also when no
            // Python code runs between access units (run() without a callback).
            if (PyErr_CheckSignals() != 0) {
                if (au) {
                    // Not lost: the next call gives it out.
                    std::lock_guard lock(channel_->mutex);
                    channel_->queue.push_front(std::move(au));
                }
                stop();
                throw py::error_already_set();
            }
            for (const StatsReport& r : reports) {
                if (!statsCallback_.is_none()) {
                    callOrStop(statsCallback_, statsToDict(r));
                }
            }
            if (au) {
                return std::make_shared<PyAccessUnit>(PyAccessUnit{std::move(au)});
            }
            if (finished) {
                join();
                std::lock_guard lock(channel_->mutex);
                if (channel_->exitCode != 0) {
                    raiseError(errorType, channel_->exitCode, channel_->error);
                }
                return nullptr;
            }
        }
    }

    // Runs to the end on the calling thread's behalf: every access unit to the callback.
    void run(size_t queueSize, const std::string& overflow) {
        start(queueSize, overflow);
        while (std::shared_ptr<PyAccessUnit> au = next()) {
            if (!auCallback_.is_none()) {
                callOrStop(auCallback_, py::cast(au));
            }
        }
    }

    void stop() {
        engine_->stop();
        {
            std::lock_guard lock(channel_->mutex);
            channel_->closed = true;
        }
        channel_->changed.notify_all();
    }

    void join() {
        if (thread_.joinable()) {
            py::gil_scoped_release nogil;
            thread_.join();
        }
    }

    void requestKeyframe() { engine_->requestKeyframe(); }

    py::object stats() const {
        std::lock_guard lock(channel_->mutex);
        return channel_->latest ? statsToDict(*channel_->latest) : py::dict();
    }

    uint64_t dropped() const {
        std::lock_guard lock(channel_->mutex);
        return channel_->dropped;
    }
    uint64_t delivered() const {
        std::lock_guard lock(channel_->mutex);
        return channel_->delivered;
    }
    bool running() const {
        std::lock_guard lock(channel_->mutex);
        return started_ && !channel_->finished;
    }
    py::object exitCode() const {
        std::lock_guard lock(channel_->mutex);
        return channel_->finished ? py::object(py::int_(channel_->exitCode)) : py::none();
    }

    static constexpr size_t kDefaultQueue = 64;

private:
    // A callback that raises ends the run: the engine stops, the exception goes on.
    void callOrStop(const py::object& fn, const py::object& arg) {
        try {
            fn(arg);
        } catch (...) {
            stop();
            join();
            throw;
        }
    }

    std::shared_ptr<Channel> channel_;
    std::unique_ptr<Engine> engine_;
    std::thread thread_;
    bool started_ = false;
    py::object auCallback_ = py::none();
    py::object statsCallback_ = py::none();
};

}  // namespace
}  // namespace h265direct

PYBIND11_MODULE(_h265direct, m) {
    using namespace h265direct;
    m.doc() =
        "h265direct: camera (V4L2), test pattern or raw file -> H.265 (libx265, lowest "
        "latency), as Python objects.\n\n"
        "    engine = h265direct.Engine(pattern=True, size='640x480', fps=30, frames=60)\n"
        "    for au in engine:\n"
        "        sock.sendall(len(au).to_bytes(4, 'big') + au.data)\n";
    m.attr("__version__") = version();

    py::object base = py::reinterpret_borrow<py::object>(PyExc_Exception);
    py::object error = py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(
        "h265direct.Error",
        "The engine failed, or was given a bad option. exit_code: the program's exit code "
        "for the same failure (see ExitCode; 2: a bad option).",
        base.ptr(), nullptr));
    error.attr("exit_code") = 1;
    m.attr("Error") = error;
    py::tuple bases = py::make_tuple(error, py::reinterpret_borrow<py::object>(PyExc_ValueError));
    py::object optionError = py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(
        "h265direct.OptionError",
        "A bad option or value: the message is the one the program prints after "
        "'h265direct: error: '; exit_code is 2.",
        bases.ptr(), nullptr));
    optionError.attr("exit_code") = static_cast<int>(kExitUsage);
    m.attr("OptionError") = optionError;
    errorType = error.release();
    optionErrorType = optionError.release();

    py::class_<NalUnitInfo>(m, "Nal", "One NAL unit of an access unit.")
        .def_property_readonly(
            "type", [](const NalUnitInfo& n) { return n.type; }, "nal_unit_type (0..63)")
        .def_property_readonly(
            "offset", [](const NalUnitInfo& n) { return n.offset; },
            "first byte after the start code, within the access unit's bytes")
        .def_property_readonly(
            "size", [](const NalUnitInfo& n) { return n.size; },
            "NAL bytes (header + payload), start code excluded")
        .def_property_readonly(
            "start_code_size", [](const NalUnitInfo& n) { return n.startCodeSize; }, "3 or 4")
        .def_property_readonly(
            "layer_id", [](const NalUnitInfo& n) { return n.layerId; }, "nuh_layer_id")
        .def_property_readonly(
            "temporal_id", [](const NalUnitInfo& n) { return n.temporalId; }, "TemporalId")
        .def("__repr__", [](const NalUnitInfo& n) {
            return "Nal(type=" + std::to_string(n.type) + ", offset=" + std::to_string(n.offset) +
                   ", size=" + std::to_string(n.size) + ")";
        });

    py::class_<PyAccessUnit, std::shared_ptr<PyAccessUnit>>(
        m, "AccessUnit",
        "One encoded picture: Annex-B bytes (start codes included) and what was learnt of "
        "it. Supports the buffer protocol: memoryview(au) reads the bytes without a copy, "
        "bytes(au) copies them.",
        py::buffer_protocol())
        .def_buffer([](PyAccessUnit& a) {
            return py::buffer_info(const_cast<uint8_t*>(a.au->data.data()), 1,
                                   py::format_descriptor<uint8_t>::format(), 1,
                                   {static_cast<py::ssize_t>(a.au->data.size())}, {1}, true);
        })
        .def_property_readonly(
            "data",
            [](const PyAccessUnit& a) {
                return py::bytes(reinterpret_cast<const char*>(a.au->data.data()),
                                 a.au->data.size());
            },
            "The Annex-B bytes (a copy, as bytes)")
        .def("__len__", [](const PyAccessUnit& a) { return a.au->data.size(); })
        .def_property_readonly(
            "keyframe", [](const PyAccessUnit& a) { return a.au->keyframe; },
            "Holds an IRAP picture (every keyframe here is an IDR with VPS/SPS/PPS first)")
        .def_property_readonly(
            "idr", [](const PyAccessUnit& a) { return a.au->idr; }, "Holds an IDR picture")
        .def_property_readonly(
            "has_parameter_sets", [](const PyAccessUnit& a) { return a.au->hasParameterSets; },
            "VPS, SPS and PPS precede the picture")
        .def_property_readonly(
            "pts", [](const PyAccessUnit& a) { return a.au->pts; },
            "Presentation number, in frames from the start")
        .def_property_readonly(
            "frame_number", [](const PyAccessUnit& a) { return a.au->frameNumber; },
            "0, 1, 2 ... in output order (counts every access unit the engine produced, "
            "dropped ones included)")
        .def_property_readonly(
            "capture_time_ns", [](const PyAccessUnit& a) { return a.au->captureTimeNs; },
            "CLOCK_MONOTONIC time the source produced the frame (time.monotonic_ns())")
        .def_property_readonly(
            "encoded_time_ns", [](const PyAccessUnit& a) { return a.au->encodedTimeNs; },
            "CLOCK_MONOTONIC time the access unit left the encoder")
        .def_property_readonly(
            "nals", [](const PyAccessUnit& a) { return a.au->nals; },
            "The NAL units, in stream order (list of Nal)")
        .def("__repr__", [](const PyAccessUnit& a) {
            return "AccessUnit(frame_number=" + std::to_string(a.au->frameNumber) +
                   ", pts=" + std::to_string(a.au->pts) +
                   ", keyframe=" + (a.au->keyframe ? "True" : "False") +
                   ", size=" + std::to_string(a.au->data.size()) + ")";
        });

    const size_t q = PyEngine::kDefaultQueue;
    py::class_<PyEngine> engine(m, "Engine");
    engine
        .def(py::init<const py::kwargs&>(),
             "Engine(**options): the program's options by their long names (underscores for "
             "dashes: no_pace=True is --no-pace), checked by the program's own parser. "
             "Raises OptionError with the program's message for a bad one.")
        .def("on_access_unit", &PyEngine::onAccessUnit, py::arg("callback"),
             "callback(au) for every access unit, called by run() on its thread")
        .def("on_stats", &PyEngine::onStats, py::arg("callback"),
             "callback(dict) once per stats interval, called on the thread that iterates or "
             "runs the engine")
        .def("start", &PyEngine::start, py::arg("queue_size") = q, py::arg("overflow") = "block",
             "Starts the engine on its own thread. queue_size: access units waiting for "
             "Python at most; overflow: 'block' (the engine waits, nothing is lost) or "
             "'drop' (whole access units are dropped up to the next keyframe, which is "
             "requested, and counted: dropped, stats()['py_drops']). Iterating or run() "
             "starts it with the defaults.")
        .def("run", &PyEngine::run, py::arg("queue_size") = q, py::arg("overflow") = "block",
             "Starts the engine and gives every access unit to the on_access_unit callback "
             "until the end (frame or duration limit, end of input, stop()). Raises Error "
             "when the engine fails, or what a callback raised (the engine is stopped).")
        .def("__iter__", [](PyEngine& self) -> PyEngine& { return self; })
        .def("__next__",
             [](PyEngine& self) {
                 std::shared_ptr<PyAccessUnit> au = self.next();
                 if (!au) {
                     throw py::stop_iteration();
                 }
                 return au;
             })
        .def("stop", &PyEngine::stop,
             "Ends the run after the access unit in progress; from any thread or a signal "
             "handler. Access units already queued are still given out.")
        .def("join", &PyEngine::join, "Waits for the engine's thread to end")
        .def("request_keyframe", &PyEngine::requestKeyframe,
             "The next picture is encoded as an IDR with parameter sets")
        .def("stats", &PyEngine::stats,
             "The last stats interval's figures as a dict (the keys of --stats-json); {} "
             "before the first")
        .def_property_readonly("dropped", &PyEngine::dropped,
                               "Access units dropped because Python was behind (overflow='drop')")
        .def_property_readonly("delivered", &PyEngine::delivered,
                               "Access units queued for Python so far")
        .def_property_readonly("running", &PyEngine::running, "Started and not ended")
        .def_property_readonly("exit_code", &PyEngine::exitCode,
                               "The program's exit code for this run once it ended, else None")
        .def("__enter__", [](PyEngine& self) -> PyEngine& { return self; })
        .def("__exit__", [](PyEngine& self, const py::args&) {
            self.stop();
            self.join();
        });
    engine.attr("__doc__") =
        std::string(
            "Engine(**options): camera, test pattern or raw file -> H.265, with the program's "
            "options by their long names (underscores for dashes: no_pace=True is --no-pace; a "
            "flag is True; one letter is the short option). Iterate it for the access units, or "
            "give on_access_unit a callback and call run().\n\nThe options (h265direct "
            "--help):\n\n") +
        optionsHelp();
}
