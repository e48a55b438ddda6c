// SPDX-License-Identifier: GPL-2.0-or-later
#include <gtest/gtest.h>

#include <thread>

#include "core/percentile.hpp"
#include "engine/au_pool.hpp"
#include "engine/frame_stats.hpp"
#include "h265direct/stats.hpp"

using namespace h265direct;

TEST(Percentile, NearestRank) {
    std::vector<int64_t> v;
    EXPECT_EQ(percentile(v, 0.5), 0);
    for (int i = 100; i >= 1; --i) {
        v.push_back(i);
    }
    EXPECT_EQ(percentile(v, 0.50), 50);
    EXPECT_EQ(percentile(v, 0.99), 99);
    EXPECT_EQ(percentile(v, 1.0), 100);
    EXPECT_EQ(percentile(v, 0.0), 1);
}

TEST(FrameStats, ReportsOneIntervalAndResets) {
    FrameStats stats(0);
    for (int i = 0; i < 30; ++i) {
        stats.onFrame(1000, i == 0, 2'000'000, (i + 1) * 1'000'000);
    }
    StatsReport r;
    stats.report(1'000'000'000, r);
    EXPECT_DOUBLE_EQ(std::get<double>(r.find("kbps")->value), 240.0);  // 30 kB in 1 s
    EXPECT_DOUBLE_EQ(std::get<double>(r.find("fps")->value), 30.0);
    EXPECT_EQ(std::get<int64_t>(r.find("frames")->value), 30);
    EXPECT_EQ(std::get<int64_t>(r.find("keyframes")->value), 1);
    EXPECT_DOUBLE_EQ(std::get<double>(r.find("encode_ms")->value), 2.0);
    EXPECT_DOUBLE_EQ(std::get<double>(r.find("latency_p50_ms")->value), 15.0);
    EXPECT_DOUBLE_EQ(std::get<double>(r.find("latency_p99_ms")->value), 30.0);
    EXPECT_EQ(stats.intervalFrames(), 0u);
    StatsReport next;
    stats.report(2'000'000'000, next);
    EXPECT_EQ(std::get<int64_t>(next.find("frames")->value), 0);
    StatsReport total;
    stats.totals(2'000'000'000, total);
    EXPECT_EQ(std::get<int64_t>(total.find("total_frames")->value), 30);
    EXPECT_EQ(std::get<int64_t>(total.find("total_bytes")->value), 30000);
}

TEST(StatsReport, TextAndJson) {
    StatsReport r;
    r.add("kbps", 812.4, "kbit/s", 0);
    r.add("frames", int64_t{30});
    r.add("peer", std::string("a\"b"));
    EXPECT_EQ(r.toText(), "kbps 812 kbit/s | frames 30 | peer a\"b");
    EXPECT_EQ(r.toJson(), "{\"kbps\":812,\"frames\":30,\"peer\":\"a\\\"b\"}");
}

TEST(AccessUnitPool, ReusesUnitsAndOutlivesThePool) {
    AccessUnit* first = nullptr;
    AccessUnitPtr kept;
    {
        AccessUnitPool pool(4);
        {
            auto a = pool.acquire();
            a->data.assign(1000, 7);
            a->keyframe = true;
            a->pts = 42;
            first = a.get();
        }
        auto b = pool.acquire();
        EXPECT_EQ(b.get(), first);             // recycled
        EXPECT_TRUE(b->data.empty());          // and cleared
        EXPECT_GE(b->data.capacity(), 1000u);  // keeping its memory
        b->data.assign(3, 1);
        kept = b;
    }
    // The pool is gone; the unit it lent is still valid and is freed from another thread.
    EXPECT_EQ(kept->data.size(), 3u);
    std::thread([k = std::move(kept)]() mutable { k.reset(); }).join();
}
