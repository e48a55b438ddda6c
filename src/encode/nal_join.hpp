// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <x265.h>

#include <cstdint>
#include <span>
#include <vector>

namespace h265direct {

// x265's version-and-options SEI: a prefix SEI holding a user_data_unregistered message
// whose text starts with "x265 (build".
bool isX265InfoSei(const x265_nal& nal);

// Turns the NAL units of one x265 call into one Annex-B byte span, leaving out nals[skip]
// (skip >= count: keep all). x265 documents the payloads as back to back; then the span
// points into x265's buffer, and leaving a NAL out moves the few bytes in front of it up
// against what follows (x265 rebuilds that buffer on every call, so this is safe). If they
// are ever not back to back, the bytes are gathered into `scratch` instead and `copied` is
// set. The result is valid until the next x265 call (or change of `scratch`).
std::span<const uint8_t> joinNals(x265_nal* nals, uint32_t count, uint32_t skip,
                                  std::vector<uint8_t>& scratch, bool& copied);

}  // namespace h265direct
