/*===- kiln_runtime.c - the C ABI of compiled models -----------------------===*
 *
 * Linked into every model .so. The model provides kiln_model_signature (its
 * inputs and outputs, as text) and kiln_model_entry, which calls the
 * compiled function with MLIR memref descriptors; this file checks the
 * caller's tensors, builds the descriptors, and copies the results (which
 * the compiled code allocates and hands over) into the caller's buffers.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln/Runtime/kiln_runtime.h"

/* The allocator of the compiled code's buffers. */
#include "cpu/kiln_ukernels.h"
#include "kiln_target.h"
#include "profile.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KILN_EXPORT __attribute__((visibility("default")))

extern const char kiln_model_signature[];
extern void kiln_model_entry(void **args);

/* OpenMP is linked when the model has parallel loops. */
extern void omp_set_num_threads(int) __attribute__((weak));
extern int omp_get_num_procs(void) __attribute__((weak));

typedef struct entry {
  kiln_tensor_info info;
  int64_t *shape;
  char *name;
} entry;

static entry *inputs, *outputs;
static int32_t num_inputs, num_outputs;
static const char *signature_error;
static pthread_once_t parsed = PTHREAD_ONCE_INIT;
static _Thread_local char last_error[1024];

static kiln_status fail(kiln_status status, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(last_error, sizeof last_error, format, args);
  va_end(args);
  return status;
}

KILN_EXPORT size_t kiln_dtype_size(kiln_dtype dtype) {
  switch (dtype) {
  case KILN_BOOL:
  case KILN_UINT8:
  case KILN_INT8:
    return 1;
  case KILN_UINT16:
  case KILN_INT16:
  case KILN_FLOAT16:
  case KILN_BFLOAT16:
    return 2;
  case KILN_FLOAT32:
  case KILN_INT32:
  case KILN_UINT32:
    return 4;
  case KILN_INT64:
  case KILN_UINT64:
  case KILN_FLOAT64:
    return 8;
  }
  return 0;
}

static const char *dtype_name(kiln_dtype dtype) {
  switch (dtype) {
  case KILN_FLOAT32:
    return "float32";
  case KILN_UINT8:
    return "uint8";
  case KILN_INT8:
    return "int8";
  case KILN_UINT16:
    return "uint16";
  case KILN_INT16:
    return "int16";
  case KILN_INT32:
    return "int32";
  case KILN_INT64:
    return "int64";
  case KILN_BOOL:
    return "bool";
  case KILN_FLOAT16:
    return "float16";
  case KILN_FLOAT64:
    return "float64";
  case KILN_UINT32:
    return "uint32";
  case KILN_UINT64:
    return "uint64";
  case KILN_BFLOAT16:
    return "bfloat16";
  }
  return "unknown";
}

/* Parses "kind PART DTYPE RANK DIM... NAMELENGTH NAME\n" lines. */
static void parse_signature(void) {
  const char *p = kiln_model_signature;
  if (strncmp(p, "kiln-signature 2\n", 17) != 0) {
    signature_error = "the model's signature has an unknown format";
    return;
  }
  p += 17;
  int32_t capacity = 0;
  for (const char *q = p; *q; ++q)
    capacity += *q == '\n';
  inputs = calloc(capacity ? capacity : 1, sizeof(entry));
  outputs = calloc(capacity ? capacity : 1, sizeof(entry));
  if (!inputs || !outputs) {
    signature_error = "out of memory reading the model's signature";
    return;
  }
  while (*p) {
    char kind[8];
    int part, dtype, rank, consumed;
    if (sscanf(p, "%7s %d %d %d%n", kind, &part, &dtype, &rank, &consumed) !=
            4 ||
        rank < 0 || part < KILN_PART_TENSOR ||
        part > KILN_PART_OPTIONAL_PRESENT) {
      signature_error = "the model's signature is malformed";
      return;
    }
    p += consumed;
    entry *e = strcmp(kind, "input") == 0 ? &inputs[num_inputs++]
                                          : &outputs[num_outputs++];
    e->shape = calloc(rank ? rank : 1, sizeof(int64_t));
    for (int i = 0; i < rank; ++i) {
      long long dim;
      sscanf(p, " %lld%n", &dim, &consumed);
      p += consumed;
      e->shape[i] = dim;
    }
    int length;
    sscanf(p, " %d%n", &length, &consumed);
    p += consumed + 1; /* the space before the name */
    e->name = malloc(length + 1);
    memcpy(e->name, p, length);
    e->name[length] = '\0';
    p += length + 1; /* the newline */
    e->info.name = e->name;
    e->info.dtype = (kiln_dtype)dtype;
    e->info.rank = rank;
    e->info.shape = e->shape;
    e->info.part = (kiln_part)part;
  }
}

static int ready(void) {
  pthread_once(&parsed, parse_signature);
  return signature_error == NULL;
}

KILN_EXPORT int32_t kiln_model_abi_version(void) {
  return KILN_MODEL_ABI_VERSION;
}

KILN_EXPORT int32_t kiln_model_num_inputs(void) {
  return ready() ? num_inputs : 0;
}

KILN_EXPORT int32_t kiln_model_num_outputs(void) {
  return ready() ? num_outputs : 0;
}

KILN_EXPORT const kiln_tensor_info *kiln_model_input(int32_t index) {
  if (!ready() || index < 0 || index >= num_inputs)
    return NULL;
  return &inputs[index].info;
}

KILN_EXPORT const kiln_tensor_info *kiln_model_output(int32_t index) {
  if (!ready() || index < 0 || index >= num_outputs)
    return NULL;
  return &outputs[index].info;
}

KILN_EXPORT const char *kiln_model_last_error(void) { return last_error; }

/* The threads the model may use (0: one per processor), shared by the runs
 * in flight: with several callers' threads running the model at once, each
 * run takes its share, so the OpenMP teams together do not oversubscribe the
 * processors. A run that starts alone keeps its threads to the end. */
static _Atomic int32_t thread_budget;
static _Atomic int32_t runs_in_flight;

KILN_EXPORT void kiln_model_set_num_threads(int32_t threads) {
  thread_budget = threads > 0 ? threads : 0;
}

/* Sets the calling thread's OpenMP team size for one run. */
static void begin_run(void) {
  int32_t running = ++runs_in_flight;
  if (omp_set_num_threads) {
    int32_t budget = thread_budget;
    if (budget <= 0)
      budget = omp_get_num_procs ? omp_get_num_procs() : 1;
    int32_t share = budget / running;
    omp_set_num_threads(share > 0 ? share : 1);
  }
}

KILN_EXPORT void kiln_free(void *data) { kiln_buffer_free(data); }

/* Writes "[d0, d1, ...]" into buffer. */
static const char *format_shape(char *buffer, size_t size, int32_t rank,
                                const int64_t *shape) {
  size_t used = snprintf(buffer, size, "[");
  for (int32_t i = 0; i < rank && used < size; ++i)
    used += snprintf(buffer + used, size - used, i ? ", %lld" : "%lld",
                     (long long)shape[i]);
  if (used < size)
    snprintf(buffer + used, size - used, "]");
  return buffer;
}

/* Checks one caller tensor against the model's input or output `e`. */
static kiln_status check_tensor(const char *kind, const entry *e,
                                const kiln_tensor *t, int is_input) {
  const kiln_tensor_info *info = &e->info;
  if (t->dtype != info->dtype)
    return fail(KILN_ERROR_TYPE_MISMATCH, "%s '%s' must be %s, got %s", kind,
                info->name, dtype_name(info->dtype), dtype_name(t->dtype));
  if (t->rank != info->rank)
    return fail(KILN_ERROR_SHAPE_MISMATCH, "%s '%s' must have rank %d, got %d",
                kind, info->name, info->rank, t->rank);
  if (info->rank > 0 && !t->shape)
    return fail(KILN_ERROR_INVALID_ARGUMENT, "%s '%s' has no shape array", kind,
                info->name);
  if (!is_input)
    return KILN_OK;
  uint64_t count = 1;
  for (int32_t d = 0; d < info->rank; ++d) {
    char want[256], got[256];
    if (t->shape[d] < 0 ||
        (info->shape[d] >= 0 && t->shape[d] != info->shape[d]))
      return fail(KILN_ERROR_SHAPE_MISMATCH,
                  "%s '%s' must have shape %s, got %s (dim %d)", kind,
                  info->name,
                  format_shape(want, sizeof want, info->rank, info->shape),
                  format_shape(got, sizeof got, t->rank, t->shape), d);
    /* A size past 64 bits would wrap around to a small one that a small
     * buffer passes. */
    if (__builtin_mul_overflow(count, (uint64_t)t->shape[d], &count) ||
        count > (uint64_t)INT64_MAX / 16) {
      char got[256];
      return fail(KILN_ERROR_SHAPE_MISMATCH,
                  "%s '%s' has shape %s, too large to address", kind,
                  info->name, format_shape(got, sizeof got, t->rank, t->shape));
    }
  }
  size_t bytes = count * kiln_dtype_size(info->dtype);
  if (!t->data && bytes)
    return fail(KILN_ERROR_INVALID_ARGUMENT, "%s '%s' has no data", kind,
                info->name);
  if (t->size_bytes && t->size_bytes < bytes)
    return fail(KILN_ERROR_BUFFER_TOO_SMALL,
                "%s '%s' holds %zu bytes but its shape needs %zu", kind,
                info->name, t->size_bytes, bytes);
  return KILN_OK;
}

/* Whether a memref of `sizes` and `strides` is dense and row-major. */
static int contiguous(int32_t rank, const int64_t *sizes,
                      const int64_t *strides) {
  for (int64_t k = rank - 1, stride = 1; k >= 0; --k) {
    if (sizes[k] != 1 && strides[k] != stride)
      return 0;
    stride *= sizes[k];
  }
  return 1;
}

/* Copies a strided memref into a dense buffer, dim by dim. */
static void copy_strided(char *dst, const char *src, int32_t rank,
                         const int64_t *sizes, const int64_t *strides,
                         size_t element) {
  if (rank == 0) {
    memcpy(dst, src, element);
    return;
  }
  if (contiguous(rank, sizes, strides)) {
    size_t count = 1;
    for (int32_t d = 0; d < rank; ++d)
      count *= (size_t)sizes[d];
    memcpy(dst, src, count * element);
    return;
  }
  int64_t inner = 1;
  for (int32_t d = 1; d < rank; ++d)
    inner *= sizes[d];
  for (int64_t i = 0; i < sizes[0]; ++i)
    copy_strided(dst + i * inner * element, src + i * strides[0] * element,
                 rank - 1, sizes + 1, strides + 1, element);
}

/* memref.copy between non-contiguous layouts lowers to a call of this
 * function (MLIR's CRunnerUtils name and signature). */
typedef struct unranked_memref {
  int64_t rank;
  void *descriptor;
} unranked_memref;

void memrefCopy(int64_t element_size, unranked_memref *src,
                unranked_memref *dst) {
  int64_t rank = src->rank;
  int64_t *s = src->descriptor, *d = dst->descriptor;
  const char *from = (const char *)(intptr_t)s[1] + s[2] * element_size;
  char *to = (char *)(intptr_t)d[1] + d[2] * element_size;
  const int64_t *sizes = s + 3, *src_strides = s + 3 + rank,
                *dst_strides = d + 3 + rank;
  int64_t count = 1;
  for (int64_t k = 0; k < rank; ++k)
    count *= sizes[k];
  if (count == 0)
    return;
  int64_t index[rank > 0 ? rank : 1];
  memset(index, 0, sizeof index);
  int64_t src_offset = 0, dst_offset = 0;
  for (int64_t n = 0; n < count; ++n) {
    memcpy(to + dst_offset * element_size, from + src_offset * element_size,
           (size_t)element_size);
    /* Advance the multi-dimensional index, innermost dim first. */
    for (int64_t k = rank - 1; k >= 0; --k) {
      ++index[k];
      src_offset += src_strides[k];
      dst_offset += dst_strides[k];
      if (index[k] < sizes[k])
        break;
      src_offset -= src_strides[k] * sizes[k];
      dst_offset -= dst_strides[k] * sizes[k];
      index[k] = 0;
    }
  }
}

/* Copies a result into the caller's buffer `dst`: dense results with the
 * target's copy (device memory on CUDA), strided ones element by element on
 * the host, through a buffer of the target's when `dst` is the caller's
 * device memory. */
static kiln_status copy_result(char *dst, const char *src, int32_t rank,
                               const int64_t *sizes, const int64_t *strides,
                               size_t element, size_t bytes,
                               int device_pointers) {
  if (contiguous(rank, sizes, strides))
    return kiln_target_copy(dst, src, bytes)
               ? fail(KILN_ERROR_DEVICE, "%s", kiln_target_error())
               : KILN_OK;
  if (!device_pointers) {
    copy_strided(dst, src, rank, sizes, strides, element);
    return KILN_OK;
  }
  char *packed = kiln_buffer_alloc(bytes);
  if (!packed)
    return fail(KILN_ERROR_OUT_OF_MEMORY, "out of memory");
  copy_strided(packed, src, rank, sizes, strides, element);
  int failed = kiln_target_copy(dst, packed, bytes);
  kiln_buffer_free(packed);
  return failed ? fail(KILN_ERROR_DEVICE, "%s", kiln_target_error()) : KILN_OK;
}

/* kiln_model_run and kiln_model_run_device: with `device_pointers` the
 * caller's output buffers may be device memory, which the host cannot
 * write, so strided results go through a buffer of the target's. Inputs are
 * staged either way: the compiled host code may read them (an index check,
 * a shape computed from a tensor), and staged copies are memory both sides
 * address (on CUDA a device-to-device copy, next to nothing). */
static kiln_status run(const kiln_tensor *in, int32_t n_in, kiln_tensor *out,
                       int32_t n_out, int device_pointers) {
  last_error[0] = '\0';
  if (!ready())
    return fail(KILN_ERROR_INTERNAL, "%s", signature_error);
  if (n_in != num_inputs || n_out != num_outputs)
    return fail(KILN_ERROR_INVALID_ARGUMENT,
                "the model takes %d inputs and %d outputs, got %d and %d",
                num_inputs, num_outputs, n_in, n_out);
  if ((n_in && !in) || (n_out && !out))
    return fail(KILN_ERROR_INVALID_ARGUMENT, "null tensor array");
  const char *unavailable = kiln_target_unavailable();
  if (unavailable)
    return fail(KILN_ERROR_DEVICE, "%s", unavailable);
  for (int32_t i = 0; i < n_in; ++i) {
    kiln_status s = check_tensor("input", &inputs[i], &in[i], 1);
    if (s != KILN_OK)
      return s;
  }
  for (int32_t i = 0; i < n_out; ++i) {
    kiln_status s = check_tensor("output", &outputs[i], &out[i], 0);
    if (s != KILN_OK)
      return s;
  }

  /* Descriptors: {allocated, aligned, offset, sizes[rank], strides[rank]}. */
  size_t words = 0;
  for (int32_t i = 0; i < n_in; ++i)
    words += 3 + 2 * (size_t)inputs[i].info.rank;
  size_t result_words = 0;
  for (int32_t i = 0; i < n_out; ++i)
    result_words += 3 + 2 * (size_t)outputs[i].info.rank;
  int64_t *descriptors = calloc(words + result_words + 1, sizeof(int64_t));
  void **args = calloc((size_t)n_in + 1, sizeof(void *));
  if (!descriptors || !args) {
    free(descriptors);
    free(args);
    return fail(KILN_ERROR_OUT_OF_MEMORY, "out of memory");
  }
  int64_t *results = descriptors + words;
  args[0] = results;
  int64_t *d = descriptors;
  for (int32_t i = 0; i < n_in; ++i) {
    int32_t rank = inputs[i].info.rank;
    args[i + 1] = d;
    d[0] = d[1] = 0; /* staged below */
    d[2] = 0;
    int64_t stride = 1;
    for (int32_t k = rank - 1; k >= 0; --k) {
      d[3 + k] = in[i].shape[k];
      d[3 + rank + k] = stride;
      stride *= in[i].shape[k];
    }
    d += 3 + 2 * rank;
  }

  /* An allocation the compiled code cannot get ends the run here. */
  /* So does a check of the compiled code that fails (kiln_model_trap). */
  static _Thread_local kiln_run_memory memory;
  if (setjmp(memory.failure)) {
    size_t needed = memory.failed_bytes;
    int32_t trap = memory.trap;
    kiln_run_memory_end(1);
    --runs_in_flight;
    free(descriptors);
    free(args);
    if (trap == KILN_TRAP_CACHE_OVERFLOW)
      return fail(KILN_ERROR_INVALID_ARGUMENT,
                  "a key/value cache input has no room for the new rows: "
                  "its length along the cache axis must be at least the "
                  "past length plus the new tokens");
    if (trap == KILN_TRAP_INDEX_OUT_OF_RANGE)
      return fail(KILN_ERROR_INVALID_ARGUMENT,
                  "an index of a Gather or Scatter op is out of range: "
                  "ONNX requires -n <= index < n for an axis of extent n");
    if (trap == KILN_TRAP_DEVICE)
      return fail(KILN_ERROR_DEVICE, "%s", kiln_target_error());
    if (trap)
      return fail(KILN_ERROR_INTERNAL, "a check of the model failed (%d)",
                  (int)trap);
    return fail(KILN_ERROR_OUT_OF_MEMORY,
                "out of memory: the model could not allocate %zu bytes",
                needed);
  }
  kiln_run_memory_begin(&memory);
  begin_run();
  kiln_profile_start_run();
  /* Inputs go where the compiled code can read them (a failed run's
   * copies are released with its other buffers). */
  for (int32_t i = 0; i < n_in; ++i) {
    int64_t *desc = args[i + 1];
    int32_t rank = inputs[i].info.rank;
    size_t bytes = kiln_dtype_size(inputs[i].info.dtype);
    for (int32_t k = 0; k < rank; ++k)
      bytes *= (size_t)in[i].shape[k];
    desc[0] = desc[1] =
        (int64_t)(intptr_t)kiln_target_stage_input(in[i].data, bytes);
  }
  kiln_model_entry(args);
  --runs_in_flight;
  kiln_run_memory_end(0);
  for (int32_t i = 0; i < n_in; ++i)
    kiln_target_release_input((void *)(intptr_t)((int64_t *)args[i + 1])[1],
                              in[i].data);

  /* Copy each result out and release it; a buffer returned twice is freed
   * once. An output the runtime allocates takes the result's own buffer
   * when that is dense and row-major (no copy). */
  kiln_status status = KILN_OK;
  int64_t *r = results;
  for (int32_t i = 0; i < n_out; ++i) {
    int32_t rank = outputs[i].info.rank;
    void *allocated = (void *)(intptr_t)r[0];
    const char *aligned = (const char *)(intptr_t)r[1];
    size_t element = kiln_dtype_size(outputs[i].info.dtype);
    const int64_t *sizes = r + 3, *strides = r + 3 + rank;
    size_t count = 1;
    for (int32_t k = 0; k < rank; ++k) {
      out[i].shape[k] = sizes[k];
      count *= (size_t)sizes[k];
    }
    size_t bytes = count * element;
    int seen = 0;
    for (int32_t j = 0, offset = 0; j < i; ++j) {
      if ((void *)(intptr_t)results[offset] == allocated)
        seen = 1;
      offset += 3 + 2 * outputs[j].info.rank;
    }
    int dense = !seen && allocated == (const void *)aligned && r[2] == 0 &&
                contiguous(rank, sizes, strides);
    if (status == KILN_OK && !out[i].data && dense) {
      out[i].data = allocated;
      out[i].size_bytes = bytes;
      r += 3 + 2 * rank;
      continue;
    }
    if (status == KILN_OK) {
      if (!out[i].data) {
        out[i].data = kiln_buffer_alloc(bytes ? bytes : 1);
        out[i].size_bytes = bytes;
        if (!out[i].data)
          status = fail(KILN_ERROR_OUT_OF_MEMORY,
                        "cannot allocate %zu bytes for output '%s'", bytes,
                        outputs[i].info.name);
      } else if (out[i].size_bytes < bytes) {
        status = fail(KILN_ERROR_BUFFER_TOO_SMALL,
                      "output '%s' needs %zu bytes, the buffer holds %zu",
                      outputs[i].info.name, bytes, out[i].size_bytes);
      }
      if (status == KILN_OK && bytes)
        status =
            copy_result(out[i].data, aligned + r[2] * (int64_t)element, rank,
                        sizes, strides, element, bytes, device_pointers);
    }
    if (!seen)
      kiln_buffer_free(allocated);
    r += 3 + 2 * rank;
  }
  free(descriptors);
  free(args);
  return status;
}

KILN_EXPORT kiln_status kiln_model_run(const kiln_tensor *in, int32_t n_in,
                                       kiln_tensor *out, int32_t n_out) {
  return run(in, n_in, out, n_out, 0);
}

KILN_EXPORT kiln_status kiln_model_run_device(const kiln_tensor *in,
                                              int32_t n_in, kiln_tensor *out,
                                              int32_t n_out) {
  return run(in, n_in, out, n_out, 1);
}
