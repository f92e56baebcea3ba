/* Runs the oom model (Y = Relu(ConstantOfShape(S))) once with a shape no
 * machine can hold, then with a small one, in one process: the first run
 * fails with KILN_ERROR_OUT_OF_MEMORY and a message, the second succeeds. */
#include "oom.h"

#include <stdio.h>

static kiln_status run(int64_t rows, int64_t cols) {
  int64_t shape[2] = {rows, cols};
  int64_t s_shape[1] = {2};
  kiln_tensor input = {shape, KILN_INT64, 1, s_shape, sizeof shape};
  int64_t out_shape[2] = {0, 0};
  kiln_tensor output = {NULL, KILN_FLOAT32, 2, out_shape, 0};
  kiln_status status = kiln_model_run(&input, 1, &output, 1);
  if (status == KILN_OK) {
    float *y = output.data;
    printf("ok %lld x %lld first %.1f last %.1f\n", (long long)out_shape[0],
           (long long)out_shape[1], y[0], y[rows * cols - 1]);
    kiln_free(output.data);
  } else {
    printf("status %d: %s\n", status, kiln_model_last_error());
  }
  return status;
}

int main(void) {
  run(1000000, 1000000);
  run(2, 3);
  run(1000000, 1000000);
  run(4, 5);
  return 0;
}
