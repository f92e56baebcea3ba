/*===- buffers.c - the allocator of compiled models' buffers --------------===*
 *
 * Compiled code allocates every intermediate tensor with memref.alloc and
 * frees it with memref.dealloc; the pipeline lowers them to the three
 * functions below (MLIR's "generic" allocation functions). Plain malloc
 * would serve large buffers with fresh mmap'd pages on every inference, and
 * the kernel's page faults on them cost several percent of a model's time.
 * Freed blocks of at least 64 KiB are kept in a small cache instead and
 * handed out again for requests they fit (at most twice their size), so the
 * next inference reuses memory whose pages are already mapped. The cache
 * holds at most 64 blocks and 1 GiB (the oldest block leaves first); every
 * block is an ordinary malloc block, 64-byte aligned. The kernels' packing
 * buffers and offset tables come from it too (kiln_buffer_alloc): served by
 * plain malloc, their large blocks would be mapped afresh on every call.
 *
 *===----------------------------------------------------------------------===*/

#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "kiln_ukernels.h"

enum { CACHE_SLOTS = 64, CACHED_MIN = 64 << 10, ALIGNMENT = 64 };
static const size_t cache_limit = (size_t)1 << 30;

static struct {
  void *ptr;
  size_t bytes;
} cache[CACHE_SLOTS];
static size_t cached_bytes;
static int next_victim;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* The cached block that fits `bytes` most tightly, taken out of the cache,
 * or NULL. */
static void *take_cached(size_t bytes) {
  void *found = NULL;
  pthread_mutex_lock(&cache_lock);
  int best = -1;
  for (int i = 0; i < CACHE_SLOTS; ++i)
    if (cache[i].ptr && cache[i].bytes >= bytes &&
        cache[i].bytes / 2 <= bytes &&
        (best < 0 || cache[i].bytes < cache[best].bytes))
      best = i;
  if (best >= 0) {
    found = cache[best].ptr;
    cached_bytes -= cache[best].bytes;
    cache[best].ptr = NULL;
    cache[best].bytes = 0;
  }
  pthread_mutex_unlock(&cache_lock);
  return found;
}

static void *allocate(size_t alignment, size_t bytes) {
  if (alignment <= ALIGNMENT && bytes >= CACHED_MIN) {
    void *cached = take_cached(bytes);
    if (cached)
      return cached;
  }
  if (alignment < ALIGNMENT)
    alignment = ALIGNMENT;
  size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  return aligned_alloc(alignment, rounded ? rounded : alignment);
}

void *kiln_buffer_alloc(size_t bytes) { return allocate(ALIGNMENT, bytes); }

void *_mlir_memref_to_llvm_alloc(uint64_t bytes) {
  return allocate(ALIGNMENT, (size_t)bytes);
}

void *_mlir_memref_to_llvm_aligned_alloc(uint64_t alignment, uint64_t bytes) {
  return allocate((size_t)alignment, (size_t)bytes);
}

void _mlir_memref_to_llvm_free(void *ptr) { kiln_buffer_free(ptr); }

void kiln_buffer_free(void *ptr) {
  if (!ptr)
    return;
  size_t bytes = malloc_usable_size(ptr);
  void *evicted = ptr;
  if (bytes >= CACHED_MIN && bytes <= cache_limit &&
      ((uintptr_t)ptr % ALIGNMENT) == 0) {
    pthread_mutex_lock(&cache_lock);
    int slot = -1;
    for (int i = 0; i < CACHE_SLOTS && slot < 0; ++i)
      if (!cache[i].ptr)
        slot = i;
    if (slot < 0) {
      slot = next_victim;
      next_victim = (next_victim + 1) % CACHE_SLOTS;
    }
    /* Make room: the victim slot leaves, then other blocks while the
     * cache holds too much. */
    evicted = cache[slot].ptr;
    cached_bytes -= cache[slot].bytes;
    cache[slot].ptr = ptr;
    cache[slot].bytes = bytes;
    cached_bytes += bytes;
    for (int i = 0; i < CACHE_SLOTS && cached_bytes > cache_limit; ++i)
      if (cache[i].ptr && i != slot) {
        free(cache[i].ptr);
        cached_bytes -= cache[i].bytes;
        cache[i].ptr = NULL;
        cache[i].bytes = 0;
      }
    pthread_mutex_unlock(&cache_lock);
  }
  free(evicted);
}
