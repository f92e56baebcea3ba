//===- BufferCacheTest.cpp - the runtime's allocator of model buffers -----===//
//
// runtime/buffers.c keeps freed blocks of 64 KiB and more for the next
// request they fit (at most twice its size), and a few blocks of at most
// 32 KiB per thread, by power-of-two size.
//
//===----------------------------------------------------------------------===//

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

extern "C" {
void *_mlir_memref_to_llvm_alloc(uint64_t bytes);
void *_mlir_memref_to_llvm_aligned_alloc(uint64_t alignment, uint64_t bytes);
void _mlir_memref_to_llvm_free(void *ptr);
}

namespace {

// A tensor that grows a little between runs (a decoder's key/value cache:
// one row per token) fits the block it left: fresh large blocks get up to
// 12.5 % more.
TEST(BufferCache, GrowingBufferReusesItsBlock) {
  const uint64_t bytes = (2u << 20) + 4096;
  void *a = _mlir_memref_to_llvm_alloc(bytes);
  ASSERT_NE(a, nullptr);
  std::memset(a, 1, bytes);
  _mlir_memref_to_llvm_free(a);
  void *b = _mlir_memref_to_llvm_alloc(bytes + 64 * 1024);
  EXPECT_EQ(b, a);
  _mlir_memref_to_llvm_free(b);
}

TEST(BufferCache, ReusesLargeBlocksThatFit) {
  void *a = _mlir_memref_to_llvm_aligned_alloc(64, 1 << 20);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 64, 0u);
  std::memset(a, 1, 1 << 20);
  _mlir_memref_to_llvm_free(a);
  // A request of 900 KiB fits the freed 1 MiB block.
  void *b = _mlir_memref_to_llvm_alloc(900 << 10);
  EXPECT_EQ(b, a);
  _mlir_memref_to_llvm_free(b);
  // 300 KiB would waste more than half of it: a new block.
  void *c = _mlir_memref_to_llvm_alloc(300 << 10);
  EXPECT_NE(c, a);
  // The 1 MiB block is still there for a request that fits.
  void *d = _mlir_memref_to_llvm_alloc(1 << 20);
  EXPECT_EQ(d, a);
  _mlir_memref_to_llvm_free(c);
  _mlir_memref_to_llvm_free(d);
}

TEST(BufferCache, AlignmentAndSmallBlocks) {
  // Stricter alignments than 64 bypass the cache but are honored.
  void *p = _mlir_memref_to_llvm_aligned_alloc(4096, 100 << 10);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 4096, 0u);
  _mlir_memref_to_llvm_free(p);
  // Small blocks are 64-byte aligned too; a null pointer is ignored.
  void *q = _mlir_memref_to_llvm_alloc(100);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(q) % 64, 0u);
  _mlir_memref_to_llvm_free(q);
  _mlir_memref_to_llvm_free(nullptr);
}

TEST(BufferCache, MoreBlocksThanSlots) {
  // More freed blocks than the cache keeps: the live blocks handed out again
  // are distinct and hold what was written to them, and some are reused.
  std::vector<void *> blocks;
  for (int i = 0; i < 300; ++i) {
    blocks.push_back(_mlir_memref_to_llvm_alloc((64 << 10) + (i % 16) * 4096));
    ASSERT_NE(blocks.back(), nullptr);
  }
  for (void *b : blocks)
    _mlir_memref_to_llvm_free(b);
  int reused = 0;
  std::vector<void *> again;
  for (int i = 0; i < 300; ++i) {
    again.push_back(_mlir_memref_to_llvm_alloc((64 << 10) + (i % 16) * 4096));
    ASSERT_NE(again.back(), nullptr);
    std::memset(again.back(), i, 64 << 10);
    for (void *b : blocks)
      reused += again.back() == b;
  }
  EXPECT_GT(reused, 0);
  for (int i = 0; i < 100; ++i) {
    for (int j = 0; j < i; ++j)
      EXPECT_NE(again[i], again[j]);
    EXPECT_EQ(static_cast<unsigned char *>(again[i])[(64 << 10) - 1], i);
  }
  for (void *b : again)
    _mlir_memref_to_llvm_free(b);
}

// A small block freed on a thread serves that thread's next request of its
// size class (here 100 and 128 bytes: the 128-byte class), not a larger
// one's.
TEST(BufferCache, SmallBlocksReusedByTheirThread) {
  void *a = _mlir_memref_to_llvm_alloc(100);
  ASSERT_NE(a, nullptr);
  std::memset(a, 7, 128);
  _mlir_memref_to_llvm_free(a);
  void *b = _mlir_memref_to_llvm_alloc(128);
  EXPECT_EQ(b, a);
  void *c = _mlir_memref_to_llvm_alloc(129);
  ASSERT_NE(c, nullptr);
  EXPECT_NE(c, b);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(c) % 64, 0u);
  std::memset(c, 1, 129);
  _mlir_memref_to_llvm_free(b);
  _mlir_memref_to_llvm_free(c);
  // Another thread has its own blocks: it gets neither of these, and its
  // blocks go back when it exits.
  void *other = nullptr;
  std::thread([&] {
    void *mine = _mlir_memref_to_llvm_alloc(128);
    std::memset(mine, 3, 128);
    other = mine;
    _mlir_memref_to_llvm_free(mine);
  }).join();
  EXPECT_NE(other, b);
  EXPECT_NE(other, c);
  // Blocks of every class, more than a class keeps, live at once: distinct
  // and intact.
  std::vector<void *> live;
  for (int i = 0; i < 200; ++i) {
    uint64_t bytes = 1 + (uint64_t(i) * 331) % (32 << 10);
    live.push_back(_mlir_memref_to_llvm_alloc(bytes));
    ASSERT_NE(live.back(), nullptr);
    std::memset(live.back(), i, bytes);
  }
  for (int i = 0; i < 200; ++i)
    EXPECT_EQ(static_cast<unsigned char *>(live[i])[0], i);
  for (void *p : live)
    _mlir_memref_to_llvm_free(p);
}

} // namespace
