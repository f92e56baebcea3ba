/* A shared library with the kiln_model_* functions of a compiled model but
 * another model ABI version (ABI_VERSION), or none (NO_VERSION): what a
 * model built by another Kiln looks like to a loader. It never runs. */
#include <stddef.h>
#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))

EXPORT int32_t kiln_model_num_inputs(void) { return 0; }
EXPORT int32_t kiln_model_num_outputs(void) { return 0; }
EXPORT const void *kiln_model_input(int32_t index) { return NULL; }
EXPORT const void *kiln_model_output(int32_t index) { return NULL; }
EXPORT int kiln_model_run(const void *in, int32_t n_in, void *out,
                          int32_t n_out) {
  return 6;
}
EXPORT const char *kiln_model_last_error(void) { return ""; }
EXPORT void kiln_model_set_num_threads(int32_t threads) {}
EXPORT void kiln_free(void *data) {}
#ifndef NO_VERSION
EXPORT int32_t kiln_model_abi_version(void) { return ABI_VERSION; }
#endif
