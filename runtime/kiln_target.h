/*===- kiln_target.h - what each target's runtime gives the shared core ---===*
 *
 * The C ABI (kiln_runtime.c) and the buffer cache (buffers.c) are the same
 * for every target. A target's part of the runtime (cpu/target.c,
 * cuda/cuda.c) provides the memory blocks and says whether, and on what
 * memory, the compiled code can run.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_KILN_TARGET_H
#define KILN_RUNTIME_KILN_TARGET_H

#include <stddef.h>

/* A block for buffers of `bytes` (alignment a power of two, at most 64),
 * readable by the compiled code and the host; NULL when out of memory. */
void *kiln_block_alloc(size_t alignment, size_t bytes);
/* Gives a block back; NULL is ignored. */
void kiln_block_free(void *block);
/* The usable size of a block. */
size_t kiln_block_size(void *block);

/* NULL when models can run here, else why not, in one line ("cannot load
 * the CUDA driver ..."). */
const char *kiln_target_unavailable(void);

/* The buffer the compiled code reads an input from: `data` itself where the
 * code (device and host parts) can address the caller's memory, else a
 * copy; `data` may be host memory or, on a GPU target, device memory. */
void *kiln_target_stage_input(const void *data, size_t bytes);
/* Ends the use of a staged input. */
void kiln_target_release_input(void *staged, const void *data);

/* Copies `bytes` between any two buffers the target addresses (the
 * caller's host or device memory, the target's blocks); 0 on success, else
 * kiln_target_error() says why. */
int kiln_target_copy(void *dst, const void *src, size_t bytes);

/* The reason of the last KILN_TRAP_DEVICE on this thread. */
const char *kiln_target_error(void);

#endif /* KILN_RUNTIME_KILN_TARGET_H */
