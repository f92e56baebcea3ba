/*===- cuda.c - the CUDA target's part of the runtime ---------------------===*
 *
 * Compiled for --target=cuda, a model's host code loads its kernels from a
 * global constructor and launches them through the `mgpu*` functions that
 * MLIR's gpu-to-llvm conversion calls. This file implements them over the
 * CUDA driver API, which it loads with dlopen at first use: a model never
 * links against CUDA, and on a machine without the driver or a GPU it loads
 * fine and kiln_model_run fails with the reason.
 *
 * Memory: every buffer of the compiled code is managed memory, which the
 * kernels and the host code (shape computations, the copies of results
 * into the caller's buffers) both address. Inputs are copied in; each
 * constant (weights) is copied to the device once, at its first use.
 * Launches run on one stream per host thread and are waited for before the
 * host code goes on.
 *
 *===----------------------------------------------------------------------===*/

#include "cpu/kiln_ukernels.h"
#include "kiln_target.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef unsigned long long CUdeviceptr;

enum { CUDA_SUCCESS = 0, CU_MEM_ATTACH_GLOBAL = 1, CU_STREAM_NON_BLOCKING = 1 };

/* The driver functions Kiln calls, by their exported names. */
static struct {
  CUresult (*init)(unsigned);
  CUresult (*deviceGetCount)(int *);
  CUresult (*deviceGet)(CUdevice *, int);
  CUresult (*primaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*ctxSetCurrent)(CUcontext);
  CUresult (*moduleLoadData)(CUmodule *, const void *);
  CUresult (*moduleUnload)(CUmodule);
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*launchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **,
                           void **);
  CUresult (*streamCreate)(CUstream *, unsigned);
  CUresult (*streamSynchronize)(CUstream);
  CUresult (*memAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*memFree)(CUdeviceptr);
  CUresult (*memcpy)(CUdeviceptr, CUdeviceptr, size_t);
  CUresult (*memGetAddressRange)(CUdeviceptr *, size_t *, CUdeviceptr);
  CUresult (*getErrorString)(CUresult, const char **);
} cu;

static pthread_once_t initialized = PTHREAD_ONCE_INIT;
static CUcontext context;
/* Why the driver, a GPU or the kernels are not usable (empty: they are). */
static char unavailable[512];
static _Thread_local char last_error[512];

static const char *error_text(CUresult result) {
  const char *text = NULL;
  if (cu.getErrorString && cu.getErrorString(result, &text) != CUDA_SUCCESS)
    text = NULL;
  return text ? text : "unknown CUDA error";
}

static void initialize(void) {
  void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!driver) {
    const char *why = dlerror();
    snprintf(unavailable, sizeof unavailable,
             "this model runs on an NVIDIA GPU, but the CUDA driver "
             "(libcuda.so.1) cannot be loaded: %s",
             why ? why : "not found");
    return;
  }
  struct {
    void **slot;
    const char *name;
  } symbols[] = {
      {(void **)&cu.init, "cuInit"},
      {(void **)&cu.deviceGetCount, "cuDeviceGetCount"},
      {(void **)&cu.deviceGet, "cuDeviceGet"},
      {(void **)&cu.primaryCtxRetain, "cuDevicePrimaryCtxRetain"},
      {(void **)&cu.ctxSetCurrent, "cuCtxSetCurrent"},
      {(void **)&cu.moduleLoadData, "cuModuleLoadData"},
      {(void **)&cu.moduleUnload, "cuModuleUnload"},
      {(void **)&cu.moduleGetFunction, "cuModuleGetFunction"},
      {(void **)&cu.launchKernel, "cuLaunchKernel"},
      {(void **)&cu.streamCreate, "cuStreamCreate"},
      {(void **)&cu.streamSynchronize, "cuStreamSynchronize"},
      {(void **)&cu.memAllocManaged, "cuMemAllocManaged"},
      {(void **)&cu.memFree, "cuMemFree_v2"},
      {(void **)&cu.memcpy, "cuMemcpy"},
      {(void **)&cu.memGetAddressRange, "cuMemGetAddressRange_v2"},
      {(void **)&cu.getErrorString, "cuGetErrorString"},
  };
  for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; ++i) {
    *symbols[i].slot = dlsym(driver, symbols[i].name);
    if (!*symbols[i].slot) {
      snprintf(unavailable, sizeof unavailable,
               "the CUDA driver has no %s: it is too old for this model",
               symbols[i].name);
      return;
    }
  }
  CUresult result = cu.init(0);
  int count = 0;
  if (result == CUDA_SUCCESS)
    result = cu.deviceGetCount(&count);
  if (result != CUDA_SUCCESS || count == 0) {
    snprintf(unavailable, sizeof unavailable,
             "this model runs on an NVIDIA GPU, but the CUDA driver finds "
             "none: %s",
             result != CUDA_SUCCESS ? error_text(result) : "no device");
    return;
  }
  CUdevice device;
  result = cu.deviceGet(&device, 0);
  if (result == CUDA_SUCCESS)
    result = cu.primaryCtxRetain(&context, device);
  if (result != CUDA_SUCCESS)
    snprintf(unavailable, sizeof unavailable,
             "cannot open a context on the GPU: %s", error_text(result));
}

/* Whether the driver is ready; makes the context current on this thread. */
static int bind(void) {
  pthread_once(&initialized, initialize);
  if (unavailable[0])
    return 0;
  static _Thread_local int bound;
  if (!bound && cu.ctxSetCurrent(context) == CUDA_SUCCESS)
    bound = 1;
  return bound;
}

/* Ends the run on this thread with `what` failed. */
static void fail(const char *what, CUresult result) {
  snprintf(last_error, sizeof last_error, "the GPU failed in %s: %s", what,
           error_text(result));
  kiln_model_trap(KILN_TRAP_DEVICE);
}

const char *kiln_target_unavailable(void) {
  return bind() ? NULL : unavailable;
}

const char *kiln_target_error(void) { return last_error; }

/*===----------------------------------------------------------------------===*
 * Memory
 *===----------------------------------------------------------------------===*/

void *kiln_block_alloc(size_t alignment, size_t bytes) {
  (void)alignment; /* managed blocks are aligned to at least 256 bytes */
  CUdeviceptr block = 0;
  if (!bind() || cu.memAllocManaged(&block, bytes ? bytes : 1,
                                    CU_MEM_ATTACH_GLOBAL) != CUDA_SUCCESS)
    return NULL;
  return (void *)(uintptr_t)block;
}

void kiln_block_free(void *block) {
  if (block && bind())
    cu.memFree((CUdeviceptr)(uintptr_t)block);
}

size_t kiln_block_size(void *block) {
  CUdeviceptr base = 0;
  size_t bytes = 0;
  if (!bind() ||
      cu.memGetAddressRange(&base, &bytes, (CUdeviceptr)(uintptr_t)block) !=
          CUDA_SUCCESS)
    return 0;
  return bytes - (size_t)((CUdeviceptr)(uintptr_t)block - base);
}

void *kiln_target_stage_input(const void *data, size_t bytes) {
  if (!bytes)
    return (void *)(uintptr_t)data;
  void *copy = kiln_buffer_alloc(bytes);
  CUresult result = cu.memcpy((CUdeviceptr)(uintptr_t)copy,
                              (CUdeviceptr)(uintptr_t)data, bytes);
  if (result != CUDA_SUCCESS)
    fail("copying an input to the device", result);
  return copy;
}

int kiln_target_copy(void *dst, const void *src, size_t bytes) {
  CUresult result = cu.memcpy((CUdeviceptr)(uintptr_t)dst,
                              (CUdeviceptr)(uintptr_t)src, bytes);
  if (result == CUDA_SUCCESS)
    return 0;
  snprintf(last_error, sizeof last_error,
           "the GPU failed in copying a result: %s", error_text(result));
  return 1;
}

void kiln_target_release_input(void *staged, const void *data) {
  if (staged != data)
    kiln_buffer_free(staged);
}

/* The device copies of constants, by host address: open addressing. */
static struct {
  const void *host;
  void *device;
} *constants;
static size_t constant_slots, constant_count;
static pthread_mutex_t constants_lock = PTHREAD_MUTEX_INITIALIZER;

static void **find_constant(const void *host) {
  size_t mask = constant_slots - 1;
  size_t i = ((uintptr_t)host >> 4) * 0x9E3779B97F4A7C15ull & mask;
  while (constants[i].host && constants[i].host != host)
    i = (i + 1) & mask;
  constants[i].host = host;
  return &constants[i].device;
}

/* Called by the host code (kiln-gpu-device-constants) for each use of a
 * constant: the device copy, made on first use. */
void *kiln_cuda_constant(const void *host, int64_t bytes) {
  pthread_mutex_lock(&constants_lock);
  if (2 * (constant_count + 1) > constant_slots) {
    size_t old_slots = constant_slots;
    __typeof__(constants) old = constants;
    constant_slots = old_slots ? 2 * old_slots : 256;
    constants = calloc(constant_slots, sizeof *constants);
    if (!constants) {
      pthread_mutex_unlock(&constants_lock);
      fprintf(stderr, "kiln: out of memory\n");
      abort();
    }
    for (size_t i = 0; i < old_slots; ++i)
      if (old[i].host)
        *find_constant(old[i].host) = old[i].device;
    free(old);
  }
  void **slot = find_constant(host);
  if (!*slot) {
    CUdeviceptr copy = 0;
    CUresult result = cu.memAllocManaged(&copy, bytes ? (size_t)bytes : 1,
                                         CU_MEM_ATTACH_GLOBAL);
    if (result == CUDA_SUCCESS && bytes)
      result = cu.memcpy(copy, (CUdeviceptr)(uintptr_t)host, (size_t)bytes);
    if (result != CUDA_SUCCESS) {
      pthread_mutex_unlock(&constants_lock);
      fail("copying the weights to the device", result);
    }
    *slot = (void *)(uintptr_t)copy;
    ++constant_count;
  }
  void *device = *slot;
  pthread_mutex_unlock(&constants_lock);
  return device;
}

/*===----------------------------------------------------------------------===*
 * The functions MLIR's gpu-to-llvm conversion calls
 *===----------------------------------------------------------------------===*/

void *mgpuModuleLoad(const void *data, size_t size) {
  (void)size;
  if (!bind())
    return NULL;
  CUmodule module = NULL;
  CUresult result = cu.moduleLoadData(&module, data);
  if (result != CUDA_SUCCESS) {
    snprintf(unavailable, sizeof unavailable,
             "cannot load the model's kernels on this GPU (were they "
             "compiled for its --gpu-arch?): %s",
             error_text(result));
    return NULL;
  }
  return module;
}

void mgpuModuleUnload(void *module) {
  if (module && bind())
    cu.moduleUnload(module);
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  CUfunction function = NULL;
  CUresult result = cu.moduleGetFunction(&function, module, name);
  if (result != CUDA_SUCCESS)
    fail(name, result);
  return function;
}

/* One stream per host thread, kept for the thread's life. */
void *mgpuStreamCreate(void) {
  static _Thread_local CUstream stream;
  if (!stream) {
    CUresult result = cu.streamCreate(&stream, CU_STREAM_NON_BLOCKING);
    if (result != CUDA_SUCCESS)
      fail("creating a stream", result);
  }
  return stream;
}

void mgpuStreamDestroy(void *stream) { (void)stream; }

void mgpuStreamSynchronize(void *stream) {
  CUresult result = cu.streamSynchronize(stream);
  if (result != CUDA_SUCCESS)
    fail("a kernel", result);
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedMemory, void *stream,
                      void **params, void **extra, size_t paramCount) {
  (void)paramCount;
  if (gridX > INT32_MAX || gridY > 65535 || gridZ > 65535) {
    snprintf(last_error, sizeof last_error,
             "a kernel needs a grid of %lld x %lld x %lld blocks, more than "
             "the GPU launches",
             (long long)gridX, (long long)gridY, (long long)gridZ);
    kiln_model_trap(KILN_TRAP_DEVICE);
  }
  CUresult result = cu.launchKernel(
      function, (unsigned)gridX, (unsigned)gridY, (unsigned)gridZ,
      (unsigned)blockX, (unsigned)blockY, (unsigned)blockZ,
      (unsigned)sharedMemory, stream, params, extra);
  if (result != CUDA_SUCCESS)
    fail("launching a kernel", result);
}
