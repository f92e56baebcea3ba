/*===- kiln_runtime.h - the C ABI of models compiled by Kiln ---------------===*
 *
 * A model compiled by `kiln-compile MODEL -o model.so` exports the functions
 * below; load it with dlopen (or link it) and call them. No C++ type crosses
 * the ABI. All functions are thread-safe; kiln_model_run may run concurrently
 * on different buffers.
 *
 *   kiln_tensor in = {data, KILN_FLOAT32, 4, shape, bytes};
 *   int64_t out_shape[2];
 *   kiln_tensor out = {NULL, KILN_FLOAT32, 2, out_shape, 0};  // Kiln allocates
 *   if (kiln_model_run(&in, 1, &out, 1) != KILN_OK)
 *     fprintf(stderr, "%s\n", kiln_model_last_error());
 *   ...
 *   kiln_free(out.data);
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_KILN_RUNTIME_H
#define KILN_RUNTIME_KILN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types; the values are ONNX's TensorProto.DataType codes. */
typedef enum kiln_dtype {
  KILN_FLOAT32 = 1,
  KILN_UINT8 = 2,
  KILN_INT8 = 3,
  KILN_UINT16 = 4,
  KILN_INT16 = 5,
  KILN_INT32 = 6,
  KILN_INT64 = 7,
  KILN_BOOL = 9, /* one byte per element, 0 or 1 */
  KILN_FLOAT16 = 10,
  KILN_FLOAT64 = 11,
  KILN_UINT32 = 12,
  KILN_UINT64 = 13,
  KILN_BFLOAT16 = 16
} kiln_dtype;

typedef enum kiln_status {
  KILN_OK = 0,
  KILN_ERROR_INVALID_ARGUMENT = 1, /* wrong count, null pointer, bad index */
  KILN_ERROR_TYPE_MISMATCH = 2,    /* an input of the wrong element type */
  KILN_ERROR_SHAPE_MISMATCH = 3,   /* wrong rank, or a dim the model fixes */
  KILN_ERROR_BUFFER_TOO_SMALL =
      4, /* an output buffer below the result's size */
  KILN_ERROR_OUT_OF_MEMORY = 5,
  KILN_ERROR_INTERNAL = 6, /* the compiled model is inconsistent */
  KILN_ERROR_DEVICE = 7    /* no GPU or driver, or the GPU failed */
} kiln_status;

/* What an entry of kiln_model_input/kiln_model_output carries. A graph
 * input or output that is a tensor takes one entry (KILN_PART_TENSOR). One
 * that is not takes several consecutive entries, all with its name:
 * - a sequence of tensors: KILN_PART_SEQUENCE_ELEMENTS, the elements'
 *   values flattened and concatenated in order (rank 1), then
 *   KILN_PART_SEQUENCE_SHAPES, their shapes as a [count, element rank]
 *   int64 matrix (every element of a sequence has the same rank);
 * - an optional: KILN_PART_OPTIONAL_PRESENT, a bool scalar (1 when it holds
 *   a value), then its value's entries (a tensor's one entry, or a
 *   sequence's two). When it is empty they are not read, but must still
 *   have shapes the model accepts: an empty sequence, or a tensor of extent
 *   0 in the dims the model leaves open (zeros of its fixed shape when it
 *   has no such dim). */
typedef enum kiln_part {
  KILN_PART_TENSOR = 0,
  KILN_PART_SEQUENCE_ELEMENTS = 1,
  KILN_PART_SEQUENCE_SHAPES = 2,
  KILN_PART_OPTIONAL_PRESENT = 3
} kiln_part;

/* An input or output of the model as compiled. */
typedef struct kiln_tensor_info {
  const char *name; /* the ONNX graph input/output name */
  kiln_dtype dtype;
  int32_t rank;
  const int64_t *shape; /* rank entries; -1 for a dim fixed at run time */
  kiln_part part;       /* which part of the named value this entry is */
} kiln_tensor_info;

/* A tensor passed to or returned by kiln_model_run: dense, row-major. */
typedef struct kiln_tensor {
  void *data;        /* inputs: the elements; outputs: a buffer, or NULL to
                        have Kiln allocate one (free it with kiln_free) */
  kiln_dtype dtype;  /* must match the model's */
  int32_t rank;      /* must match the model's */
  int64_t *shape;    /* inputs: the dims; outputs: filled in by the run */
  size_t size_bytes; /* inputs: 0 or the buffer's size, checked;
                        outputs: the buffer's capacity (set when allocated) */
} kiln_tensor;

/* The version of this ABI the model was built for; a loader refuses a model
 * whose version differs from KILN_MODEL_ABI_VERSION. */
#define KILN_MODEL_ABI_VERSION 2
int32_t kiln_model_abi_version(void);

/* The number of graph inputs and outputs. */
int32_t kiln_model_num_inputs(void);
int32_t kiln_model_num_outputs(void);

/* Input or output `index` (0-based), or NULL when out of range. */
const kiln_tensor_info *kiln_model_input(int32_t index);
const kiln_tensor_info *kiln_model_output(int32_t index);

/* Runs the model. Every input is checked (count, element type, rank, the
 * dims the model fixes, data present) before anything runs; on failure
 * kiln_model_last_error() says what was wrong and no output is written.
 * Inputs are only read, except the key/value cache buffers of a model
 * compiled with --bind-kv-cache (docs/user-guide.md), which receive the
 * step's new rows. */
kiln_status kiln_model_run(const kiln_tensor *inputs, int32_t num_inputs,
                           kiln_tensor *outputs, int32_t num_outputs);

/* kiln_model_run for data that stays on the model's device: every input's
 * and output's `data` may be memory of the model's device. For a model
 * compiled with --target=cuda that is device (or managed) memory of the
 * primary context of the process's first GPU, where frameworks such as
 * PyTorch keep their tensors: inputs and results are copied device to
 * device, never through the host; an output Kiln allocates is managed
 * memory (free it with kiln_free). For the CPU it is kiln_model_run. */
kiln_status kiln_model_run_device(const kiln_tensor *inputs, int32_t num_inputs,
                                  kiln_tensor *outputs, int32_t num_outputs);

/* The message of the last failed call on this thread ("" after success). */
const char *kiln_model_last_error(void);

/* Threads used by parallel loops (OpenMP); 0 restores the default, one per
 * processor. The setting is the model's, whichever thread makes it; runs in
 * flight at the same time (callers' own threads) share the threads, each
 * run taking an equal part when it starts, so they do not oversubscribe the
 * processors. */
void kiln_model_set_num_threads(int32_t threads);

/* Profiling, for models compiled with `kiln-compile --profile`: each
 * kernel (the work of one or more fused ONNX nodes) is timed while profiling
 * is on. kiln_model_profile_num_kernels is 0 for a model compiled without
 * --profile. Kernel names read "NODE [Type]" or "NODE +N [Type+Type...]":
 * the first ONNX node, how many more the kernel holds, and their op types. */
int32_t kiln_model_profile_num_kernels(void);
/* Kernel `index`'s name, or NULL when out of range. */
const char *kiln_model_profile_kernel(int32_t index);
/* Turns profiling on (nonzero) or off for every thread; off by default. */
void kiln_model_profile_enable(int32_t on);

/* One kernel's interval in a run (CLOCK_MONOTONIC nanoseconds). */
typedef struct kiln_profile_event {
  int32_t kernel; /* index for kiln_model_profile_kernel */
  int64_t begin_ns, end_ns;
} kiln_profile_event;

/* The kernels of the calling thread's last run made while profiling was
 * on, in the order they ran: returns their number and points *events at
 * them (valid until the thread's next run). A kernel may appear many times
 * (inside control flow, or split by other kernels). */
int32_t kiln_model_profile_events(const kiln_profile_event **events);

/* Bytes per element of `dtype` (0 when unknown). */
size_t kiln_dtype_size(kiln_dtype dtype);

/* Frees an output buffer that kiln_model_run allocated. */
void kiln_free(void *data);

#ifdef __cplusplus
}
#endif

#endif /* KILN_RUNTIME_KILN_RUNTIME_H */
