/*===- target.c - the CPU's part of the runtime ----------------------------===*
 *
 * Host memory from malloc; the compiled code reads the caller's inputs in
 * place.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln_target.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *kiln_block_alloc(size_t alignment, size_t bytes) {
  return aligned_alloc(alignment, bytes);
}

void kiln_block_free(void *block) { free(block); }

size_t kiln_block_size(void *block) { return malloc_usable_size(block); }

const char *kiln_target_unavailable(void) { return NULL; }

void *kiln_target_stage_input(const void *data, size_t bytes) {
  (void)bytes;
  return (void *)(uintptr_t)data;
}

void kiln_target_release_input(void *staged, const void *data) {
  (void)staged;
  (void)data;
}

int kiln_target_copy(void *dst, const void *src, size_t bytes) {
  memcpy(dst, src, bytes);
  return 0;
}

const char *kiln_target_error(void) { return ""; }
