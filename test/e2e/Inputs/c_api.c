/* Exercises the C ABI of a compiled tiny_cnn (input image[N,1,8,8] float32,
 * output probs[N,3] float32): queries, caller-owned and runtime-allocated
 * outputs, every input check, and runs from several threads at once. Prints
 * one line per check. */
#include "tiny_cnn.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

enum { THREADS = 4, RUNS = 50 };
static float image[3 * 64];
static float reference[9];
static int matching[THREADS];

/* RUNS runs of the model from one of THREADS threads, against `reference`. */
static void *run_many(void *arg) {
  int id = (int)(long)arg;
  int64_t shape[4] = {3, 1, 8, 8};
  kiln_tensor input = {image, KILN_FLOAT32, 4, shape, sizeof image};
  for (int r = 0; r < RUNS; ++r) {
    float probs[9];
    int64_t probs_shape[2] = {0, 0};
    kiln_tensor output = {probs, KILN_FLOAT32, 2, probs_shape, sizeof probs};
    int same = kiln_model_run(&input, 1, &output, 1) == KILN_OK;
    for (int i = 0; i < 9; ++i)
      same &= fabsf(probs[i] - reference[i]) < 1e-6f;
    matching[id] += same;
  }
  return NULL;
}

int main(void) {
  printf("inputs %d outputs %d\n", kiln_model_num_inputs(),
         kiln_model_num_outputs());
  const kiln_tensor_info *in = kiln_model_input(0);
  const kiln_tensor_info *out = kiln_model_output(0);
  printf("input %s dtype %d rank %d shape %lld %lld %lld %lld\n", in->name,
         in->dtype, in->rank, (long long)in->shape[0], (long long)in->shape[1],
         (long long)in->shape[2], (long long)in->shape[3]);
  printf("output %s dtype %d rank %d shape %lld %lld\n", out->name, out->dtype,
         out->rank, (long long)out->shape[0], (long long)out->shape[1]);
  printf("out of range: %p\n", (void *)kiln_model_input(1));

  for (int i = 0; i < 3 * 64; ++i)
    image[i] = (float)((i * 37) % 11) / 11.0f - 0.5f;
  int64_t shape[4] = {3, 1, 8, 8};
  kiln_tensor input = {image, KILN_FLOAT32, 4, shape, sizeof image};

  /* Caller-owned output buffer. */
  float probs[9];
  int64_t probs_shape[2] = {0, 0};
  kiln_tensor output = {probs, KILN_FLOAT32, 2, probs_shape, sizeof probs};
  kiln_status s = kiln_model_run(&input, 1, &output, 1);
  float row = probs[0] + probs[1] + probs[2];
  printf("run %d shape %lld x %lld row sum %.4f\n", s,
         (long long)probs_shape[0], (long long)probs_shape[1], row);

  /* Runtime-allocated output. */
  kiln_tensor allocated = {NULL, KILN_FLOAT32, 2, probs_shape, 0};
  s = kiln_model_run(&input, 1, &allocated, 1);
  float *p = allocated.data;
  printf("allocated %d bytes %zu same %d\n", s, allocated.size_bytes,
         fabsf(p[4] - probs[4]) < 1e-6f);
  kiln_free(allocated.data);

  /* The device-pointer entry: on the CPU, host memory, the same result. */
  float again[9];
  kiln_tensor device_out = {again, KILN_FLOAT32, 2, probs_shape, sizeof again};
  s = kiln_model_run_device(&input, 1, &device_out, 1);
  printf("device entry %d same %d\n", s,
         memcmp(again, probs, sizeof again) == 0);

  /* A buffer too small for the result. */
  float small[2];
  kiln_tensor tiny = {small, KILN_FLOAT32, 2, probs_shape, sizeof small};
  s = kiln_model_run(&input, 1, &tiny, 1);
  printf("small buffer %d: %s\n", s, kiln_model_last_error());

  /* Input checks. */
  kiln_tensor wrong_type = {image, KILN_INT32, 4, shape, 0};
  s = kiln_model_run(&wrong_type, 1, &output, 1);
  printf("wrong type %d: %s\n", s, kiln_model_last_error());
  int64_t bad_shape[4] = {3, 2, 8, 8};
  kiln_tensor wrong_dims = {image, KILN_FLOAT32, 4, bad_shape, 0};
  s = kiln_model_run(&wrong_dims, 1, &output, 1);
  printf("wrong dims %d: %s\n", s, kiln_model_last_error());
  kiln_tensor short_data = {image, KILN_FLOAT32, 4, shape, 16};
  s = kiln_model_run(&short_data, 1, &output, 1);
  printf("short data %d: %s\n", s, kiln_model_last_error());
  /* 2^60 x 1 x 8 x 8 elements: 2^66, whose byte size would wrap around to
   * 0 and pass the 16-byte buffer (found by scripts/fuzz.sh
   * runtime-inputs). */
  int64_t huge_shape[4] = {(int64_t)1 << 60, 1, 8, 8};
  kiln_tensor huge = {image, KILN_FLOAT32, 4, huge_shape, 16};
  s = kiln_model_run(&huge, 1, &output, 1);
  printf("huge %d: %s\n", s, kiln_model_last_error());
  kiln_tensor no_data = {NULL, KILN_FLOAT32, 4, shape, 0};
  s = kiln_model_run(&no_data, 1, &output, 1);
  printf("no data %d: %s\n", s, kiln_model_last_error());
  s = kiln_model_run(&input, 2, &output, 1);
  printf("count %d: %s\n", s, kiln_model_last_error());

  /* Runs from several threads at once share the model's threads and give
   * the single-threaded result. */
  for (int i = 0; i < 9; ++i)
    reference[i] = probs[i];
  kiln_model_set_num_threads(2);
  pthread_t threads[THREADS];
  for (long t = 0; t < THREADS; ++t)
    pthread_create(&threads[t], NULL, run_many, (void *)t);
  int total = 0;
  for (int t = 0; t < THREADS; ++t) {
    pthread_join(threads[t], NULL);
    total += matching[t];
  }
  printf("concurrent runs %d matching %d\n", THREADS * RUNS, total);
  return 0;
}
