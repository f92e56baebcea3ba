/* A stand-in for the CUDA driver (libcuda.so.1) for tests on machines
 * without a GPU: it implements the driver functions the Kiln CUDA runtime
 * calls, logs module loads and launches to stderr, keeps "device" memory in
 * host memory and runs no kernel. Environment switches make it fail:
 *   FAKE_CUDA_NO_DEVICE     cuDeviceGetCount finds no GPU
 *   FAKE_CUDA_LAUNCH_ERROR  every launch fails with an illegal address */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long dptr;
enum { HEADER = 256, ILLEGAL_ADDRESS = 700 };

int cuInit(unsigned flags) {
  (void)flags;
  return 0;
}
int cuDeviceGetCount(int *count) {
  *count = getenv("FAKE_CUDA_NO_DEVICE") ? 0 : 1;
  return 0;
}
int cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return 0;
}
int cuDevicePrimaryCtxRetain(void **context, int device) {
  (void)device;
  *context = (void *)0x10;
  return 0;
}
int cuCtxSetCurrent(void *context) {
  (void)context;
  return 0;
}
int cuModuleLoadData(void **module, const void *image) {
  (void)image;
  fprintf(stderr, "fake-cuda: module loaded\n");
  *module = (void *)0x20;
  return 0;
}
int cuModuleUnload(void *module) {
  (void)module;
  return 0;
}
int cuModuleGetFunction(void **function, void *module, const char *name) {
  if (!module)
    return 400; /* invalid handle */
  fprintf(stderr, "fake-cuda: kernel %s\n", name);
  *function = (void *)0x30;
  return 0;
}
int cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz,
                   unsigned bx, unsigned by, unsigned bz, unsigned shared,
                   void *stream, void **params, void **extra) {
  (void)function, (void)gy, (void)gz, (void)by, (void)bz, (void)shared;
  (void)stream, (void)params, (void)extra;
  fprintf(stderr, "fake-cuda: launch %u blocks of %u threads\n", gx, bx);
  return getenv("FAKE_CUDA_LAUNCH_ERROR") ? ILLEGAL_ADDRESS : 0;
}
int cuStreamCreate(void **stream, unsigned flags) {
  (void)flags;
  *stream = (void *)0x40;
  return 0;
}
int cuStreamSynchronize(void *stream) {
  (void)stream;
  return 0;
}
/* Blocks carry their size in a header before the address handed out. */
int cuMemAllocManaged(dptr *block, size_t bytes, unsigned flags) {
  (void)flags;
  char *memory = calloc(1, bytes + HEADER);
  if (!memory)
    return 2; /* out of memory */
  *(size_t *)memory = bytes;
  *block = (dptr)(uintptr_t)(memory + HEADER);
  return 0;
}
int cuMemFree_v2(dptr block) {
  free((char *)(uintptr_t)block - HEADER);
  return 0;
}
int cuMemcpy(dptr to, dptr from, size_t bytes) {
  memcpy((void *)(uintptr_t)to, (const void *)(uintptr_t)from, bytes);
  return 0;
}
int cuMemGetAddressRange_v2(dptr *base, size_t *bytes, dptr block) {
  *base = block;
  *bytes = *(size_t *)((char *)(uintptr_t)block - HEADER);
  return 0;
}
int cuGetErrorString(int result, const char **text) {
  *text = result == ILLEGAL_ADDRESS ? "an illegal memory access was encountered"
                                    : "fake error";
  return 0;
}
