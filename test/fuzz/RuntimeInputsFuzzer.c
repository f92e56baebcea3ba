/*===- RuntimeInputsFuzzer.c - libFuzzer target: the runtime's input checks
 * -===*
 *
 * kiln_model_run checks every input (count, element type, rank, fixed dims,
 * data present, buffer size) before the compiled code runs. This target
 * links the runtime with a stand-in model (the signature below and an entry
 * that reads every input element its descriptor names) and calls
 * kiln_model_run with tensors decoded from the fuzzer's bytes. A buffer is
 * always as large as the size_bytes the call claims, so the runtime
 * accepting a tensor whose shape needs more is a read past the buffer
 * (AddressSanitizer), and a shape whose element count overflows aborts.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln/Runtime/kiln_runtime.h"

#include <stdlib.h>
#include <string.h>

/* float x[?, 3], int64 ids[?] -> float y[?, 3]. */
const char kiln_model_signature[] = "kiln-signature 2\n"
                                    "input 0 1 2 -1 3 1 x\n"
                                    "input 0 7 1 -1 3 ids\n"
                                    "output 0 1 2 -1 3 1 y\n";

void *_mlir_memref_to_llvm_alloc(uint64_t bytes);

/* The number of elements a descriptor's sizes name; aborts on overflow. */
static int64_t elements(const int64_t *sizes, int rank) {
  int64_t n = 1;
  for (int d = 0; d < rank; ++d)
    if (sizes[d] < 0 || __builtin_mul_overflow(n, sizes[d], &n))
      abort();
  return n;
}

void kiln_model_entry(void **args) {
  /* Descriptors: {allocated, aligned, offset, sizes[rank], strides[rank]}. */
  const int64_t *x = args[1], *ids = args[2];
  volatile float sum = 0;
  const float *xs = (const float *)(intptr_t)x[1];
  for (int64_t i = 0, n = elements(x + 3, 2); i < n; ++i)
    sum += xs[i];
  const int64_t *is = (const int64_t *)(intptr_t)ids[1];
  for (int64_t i = 0, n = elements(ids + 3, 1); i < n; ++i)
    sum += (float)is[i];
  int64_t rows = x[3];
  float *y = _mlir_memref_to_llvm_alloc((uint64_t)(rows * 3 + 1) * 4);
  memset(y, 0, (size_t)(rows * 3 + 1) * 4);
  int64_t *result = args[0];
  result[0] = result[1] = (int64_t)(intptr_t)y;
  result[2] = 0;
  result[3] = rows;
  result[4] = 3;
  result[5] = 3;
  result[6] = 1;
}

/* Reads `bytes` little-endian bytes of the input (zeros past its end). */
static uint64_t take(const uint8_t **data, size_t *size, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    uint8_t b = 0;
    if (*size) {
      b = **data;
      ++*data;
      --*size;
    }
    v |= (uint64_t)b << (8 * i);
  }
  return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const kiln_dtype dtypes[] = {KILN_FLOAT32, KILN_INT64, KILN_INT8,
                                      KILN_FLOAT16, KILN_BOOL};
  kiln_tensor in[3], out[2];
  int64_t in_shapes[3][4], out_shapes[2][4];
  void *buffers[5] = {0};
  int32_t n_in = (int32_t)(take(&data, &size, 1) % 4);
  int32_t n_out = (int32_t)(take(&data, &size, 1) % 3);
  for (int32_t i = 0; i < n_in; ++i) {
    uint8_t flags = (uint8_t)take(&data, &size, 1);
    int32_t rank = (int32_t)(take(&data, &size, 1) % 5);
    for (int32_t d = 0; d < rank && d < 4; ++d)
      /* Small dims mostly; with a flag, any 64-bit value. */
      in_shapes[i][d] = flags & 0x10 ? (int64_t)take(&data, &size, 8)
                                     : (int64_t)(take(&data, &size, 1) % 9);
    /* At least one byte: size_bytes 0 would mean "unchecked", a promise
     * the harness cannot keep. */
    size_t bytes = (size_t)take(&data, &size, 2) % 4096 + 1;
    buffers[i] = flags & 0x20 ? NULL : malloc(bytes);
    if (buffers[i])
      memset(buffers[i], 1, bytes);
    in[i] = (kiln_tensor){buffers[i], dtypes[flags % 5], rank > 4 ? 4 : rank,
                          flags & 0x40 ? NULL : in_shapes[i],
                          buffers[i] ? bytes : 0};
  }
  for (int32_t o = 0; o < n_out; ++o) {
    uint8_t flags = (uint8_t)take(&data, &size, 1);
    size_t bytes = (size_t)take(&data, &size, 2) % 4096;
    buffers[3 + o] = flags & 1 ? malloc(bytes ? bytes : 1) : NULL;
    out[o] = (kiln_tensor){buffers[3 + o], dtypes[(flags >> 1) % 5],
                           (int32_t)((flags >> 4) % 4), out_shapes[o],
                           buffers[3 + o] ? bytes : 0};
  }
  /* A null buffer with a nonzero claimed size is the caller's lie the
   * runtime cannot see; the decoder never makes one. */
  for (int32_t i = 0; i < n_in; ++i)
    if (!in[i].data)
      in[i].size_bytes = 0;
  kiln_status status = kiln_model_run(in, n_in, out, n_out);
  if (status == KILN_OK)
    for (int32_t o = 0; o < n_out; ++o)
      if (!buffers[3 + o])
        kiln_free(out[o].data);
  for (int i = 0; i < 5; ++i)
    free(buffers[i]);
  return 0;
}
