// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <malloc.h>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace vncgate::test {

// Heap bytes in use by glibc malloc: arena chunks plus mmapped ones (large buffers get their own mapping).
inline std::size_t heap_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

inline void* volatile heap_probe_sink;  // keeps heap_statistics_work()'s probe from being optimised away

// False when mallinfo2 cannot see this build's allocator (sanitizers bring their own): skip measurements.
inline bool heap_statistics_work() {
  const std::size_t before = heap_in_use();
  auto probe = std::make_unique<std::uint8_t[]>(1 << 20);
  heap_probe_sink = probe.get();
  return heap_in_use() >= before + (1 << 20);
}

}  // namespace vncgate::test
