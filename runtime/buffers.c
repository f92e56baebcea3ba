/*===- buffers.c - the allocator of compiled models' buffers --------------===*
 *
 * Shared by the targets: the blocks themselves come from the target's part
 * of the runtime (kiln_target.h), host memory from malloc on the CPU,
 * managed memory that both the GPU and the host address on CUDA.
 *
 * Compiled code allocates every intermediate tensor with memref.alloc and
 * frees it with memref.dealloc; the pipeline lowers them to the three
 * functions below (MLIR's "generic" allocation functions). Plain malloc
 * would serve large buffers with fresh mmap'd pages on every inference, and
 * the kernel's page faults on them cost several percent of a model's time.
 * Freed blocks of at least 64 KiB are kept in a small cache instead and
 * handed out again for requests they fit (at most twice their size), so the
 * next inference reuses memory whose pages are already mapped; fresh large
 * blocks are rounded up to a size class (at most 12.5 %), so that a buffer
 * that grows slowly between runs still fits its old block. The cache
 * holds at most 256 blocks and 1 GiB (the oldest block leaves first); every
 * block is one of the target's blocks, 64-byte aligned. The kernels' packing
 * buffers and offset tables come from it too (kiln_buffer_alloc): served by
 * plain malloc, their large blocks would be mapped afresh on every call.
 *
 * Small blocks (at most 32 KiB) are kept per thread instead: a few freed
 * blocks of each power-of-two size, handed out again without a lock. A
 * decoder step allocates thousands of them inside its parallel loops (an
 * attention chunk's scores, a kernel's offset tables), and malloc's
 * aligned allocation of them, with the consolidation of its free lists
 * that a request over 1 KiB starts, cost more than the work they held.
 *
 *===----------------------------------------------------------------------===*/

#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu/kiln_ukernels.h"
#include "kiln_target.h"

enum { CACHE_SLOTS = 256, CACHED_MIN = 64 << 10, ALIGNMENT = 64 };
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

/* The small blocks this thread freed, by size class: class c holds blocks
 * of at least 64 << c bytes. Given back when the thread exits, or when the
 * model's library is unloaded (every thread's, then). */
enum { SMALL_CLASSES = 10, SMALL_KEEP = 16, SMALL_MIN = 64 };
typedef struct small_cache {
  void *blocks[SMALL_CLASSES][SMALL_KEEP];
  int count[SMALL_CLASSES];
  struct small_cache *next; /* in small_caches */
} small_cache;
static _Thread_local small_cache *small;
static small_cache *small_caches; /* every thread's */
static pthread_mutex_t small_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t small_key;
static int small_key_made;
static pthread_once_t small_once = PTHREAD_ONCE_INIT;

static void free_small(small_cache *cache) {
  for (int c = 0; c < SMALL_CLASSES; ++c)
    for (int i = 0; i < cache->count[c]; ++i)
      kiln_block_free(cache->blocks[c][i]);
  free(cache);
}

/* At a thread's exit (the key's destructor). */
static void release_small(void *mine) {
  pthread_mutex_lock(&small_lock);
  for (small_cache **link = &small_caches; *link; link = &(*link)->next)
    if (*link == mine) {
      *link = ((small_cache *)mine)->next;
      break;
    }
  pthread_mutex_unlock(&small_lock);
  small = NULL;
  free_small(mine);
}

static void make_small_key(void) {
  small_key_made = pthread_key_create(&small_key, release_small) == 0;
}

/* This thread's small-block cache, made on first use; NULL if it cannot
 * be (the blocks then come from and go to the target directly). */
static small_cache *small_blocks(void) {
  if (small)
    return small;
  pthread_once(&small_once, make_small_key);
  if (!small_key_made)
    return NULL;
  small_cache *cache = calloc(1, sizeof(small_cache));
  if (cache && pthread_setspecific(small_key, cache)) {
    free(cache);
    cache = NULL;
  }
  if (cache) {
    pthread_mutex_lock(&small_lock);
    cache->next = small_caches;
    small_caches = cache;
    pthread_mutex_unlock(&small_lock);
  }
  return small = cache;
}

/* The class serving requests of `bytes` (1 .. 64 << (SMALL_CLASSES - 1)). */
static int small_class(size_t bytes) {
  int c = 0;
  while (((size_t)SMALL_MIN << c) < bytes)
    ++c;
  return c;
}

/* A run of the model on this thread (kiln_model_run): where an allocation
 * that fails returns to, and the blocks the run's own code holds, so that a
 * failed run gives them back. */
static _Thread_local kiln_run_memory *run_memory;

void kiln_run_memory_begin(kiln_run_memory *memory) {
  memory->live = NULL;
  memory->count = memory->capacity = 0;
  memory->failed_bytes = 0;
  memory->trap = 0;
  run_memory = memory;
}

void kiln_run_memory_end(int release) {
  kiln_run_memory *memory = run_memory;
  run_memory = NULL;
  if (!memory)
    return;
  for (size_t i = 0; release && i < memory->count; ++i)
    kiln_buffer_free(memory->live[i]);
  free(memory->live);
  memory->live = NULL;
  memory->count = memory->capacity = 0;
}

/* OpenMP is linked into models; a failure inside a parallel region cannot
 * leave it. */
extern int omp_in_parallel(void) __attribute__((weak));

static void track(void *ptr) {
  kiln_run_memory *memory = run_memory;
  if (!memory || !ptr)
    return;
  if (memory->count == memory->capacity) {
    size_t capacity = memory->capacity ? 2 * memory->capacity : 64;
    void **live = realloc(memory->live, capacity * sizeof(void *));
    if (!live)
      return; /* untracked: only leaks if the run then fails */
    memory->live = live;
    memory->capacity = capacity;
  }
  memory->live[memory->count++] = ptr;
}

static void untrack(void *ptr) {
  kiln_run_memory *memory = run_memory;
  if (!memory)
    return;
  for (size_t i = memory->count; i-- > 0;)
    if (memory->live[i] == ptr) {
      memory->live[i] = memory->live[--memory->count];
      return;
    }
}

/* The size a fresh block of `bytes` (at least CACHED_MIN) gets: the next
 * of eight steps per doubling (at most 12.5 % more). A tensor that grows a
 * little from one run to the next (a decoder's key/value cache, one row
 * per token) then fits the block its previous size left in the cache,
 * instead of faulting in fresh pages every time. */
static size_t size_class(size_t bytes) {
  size_t power = (size_t)1 << (63 - __builtin_clzll((unsigned long long)bytes));
  size_t step = power / 8;
  return (bytes + step - 1) / step * step;
}

static void *allocate(size_t alignment, size_t bytes) {
  void *result = NULL;
  if (alignment <= ALIGNMENT && bytes >= CACHED_MIN)
    result = take_cached(bytes);
  small_cache *mine;
  if (!result && alignment <= ALIGNMENT &&
      bytes <= (size_t)SMALL_MIN << (SMALL_CLASSES - 1) &&
      (mine = small_blocks())) {
    int c = small_class(bytes ? bytes : 1);
    result = mine->count[c]
                 ? mine->blocks[c][--mine->count[c]]
                 : kiln_block_alloc(ALIGNMENT, (size_t)SMALL_MIN << c);
  } else if (!result) {
    if (alignment < ALIGNMENT)
      alignment = ALIGNMENT;
    size_t wanted = bytes >= CACHED_MIN ? size_class(bytes) : bytes;
    size_t rounded = (wanted + alignment - 1) / alignment * alignment;
    result = rounded >= bytes
                 ? kiln_block_alloc(alignment, rounded ? rounded : alignment)
                 : NULL;
  }
  if (!result && run_memory && !(omp_in_parallel && omp_in_parallel())) {
    /* Out of memory in the model's own code: the run fails cleanly. */
    run_memory->failed_bytes = bytes;
    longjmp(run_memory->failure, 1);
  }
  track(result);
  return result;
}

void kiln_model_trap(int32_t reason) {
  if (run_memory && !(omp_in_parallel && omp_in_parallel())) {
    run_memory->trap = reason;
    longjmp(run_memory->failure, 2);
  }
  fprintf(stderr, "kiln: a check in the compiled model failed (reason %d)\n",
          (int)reason);
  abort();
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
  untrack(ptr);
  size_t bytes = kiln_block_size(ptr);
  small_cache *mine;
  if (bytes >= SMALL_MIN && bytes < CACHED_MIN &&
      ((uintptr_t)ptr % ALIGNMENT) == 0 && (mine = small_blocks())) {
    /* The largest class the block can serve. */
    int c = small_class(bytes);
    if (((size_t)SMALL_MIN << c) > bytes)
      --c;
    if (c < SMALL_CLASSES && mine->count[c] < SMALL_KEEP) {
      mine->blocks[c][mine->count[c]++] = ptr;
      return;
    }
  }
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
        kiln_block_free(cache[i].ptr);
        cached_bytes -= cache[i].bytes;
        cache[i].ptr = NULL;
        cache[i].bytes = 0;
      }
    pthread_mutex_unlock(&cache_lock);
  }
  kiln_block_free(evicted);
}

/* When the model's library is unloaded, its cached blocks go back to the
 * target, and the threads that outlive it (OpenMP's workers) must no longer
 * run its key's destructor: its code is gone. */
__attribute__((destructor)) static void release_buffers(void) {
  if (small_key_made)
    pthread_key_delete(small_key);
  small_key_made = 0;
  pthread_mutex_lock(&small_lock);
  while (small_caches) {
    small_cache *cache = small_caches;
    small_caches = cache->next;
    free_small(cache);
  }
  pthread_mutex_unlock(&small_lock);
  small = NULL;
  pthread_mutex_lock(&cache_lock);
  for (int i = 0; i < CACHE_SLOTS; ++i)
    if (cache[i].ptr) {
      kiln_block_free(cache[i].ptr);
      cache[i].ptr = NULL;
      cache[i].bytes = 0;
    }
  cached_bytes = 0;
  pthread_mutex_unlock(&cache_lock);
}
