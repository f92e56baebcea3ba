/*===- generate.c - token generation through a compiled model's C ABI ------===*
 *
 * generate MODEL.so [--prefill S] [--past P]... [--steps N] [--threads T]
 *                   [--runs R]
 * generate MODEL.so --prompt ID,ID,... --generate N [--threads T]
 *
 * Runs a decoder with a key/value cache the way an application does: each
 * step feeds the token it picked (greedy, the logits' argmax) and the
 * previous step's `present_*` outputs back as `past_*` inputs. The model
 * follows python/kiln_models/decoder_models.py: inputs input_ids [batch,
 * seq], attention_mask [batch, past + seq] and past_key_I / past_value_I
 * [batch, heads, past, head_dim]; outputs logits [batch, seq, vocab] and
 * present_key_I / present_value_I.
 *
 * It measures, on one sequence:
 *   - prefill: S tokens with an empty cache, the median of R runs;
 *   - decode after P tokens: a cache of P random entries, then N steps
 *     (the cache grows to P + N), as tokens per second over the N steps;
 * and prints one JSON object: {"prefill_ms", "decode": [{"past",
 * "tokens_per_s", "ms_per_token"}], "peak_rss_mib"}.
 *
 * With --prompt and --generate it instead runs the prompt's tokens as the
 * prefill and then N greedy steps, and prints {"tokens": [...]}: the N
 * tokens generated (to compare quantized models with the float one).
 *
 * A model compiled with --bind-kv-cache (it has the input kiln_past_length
 * and no present_* outputs) runs the same loops the way it is meant to:
 * one buffer per cache, allocated once with room for every step, passed as
 * past_key_I / past_value_I; each step writes its new rows into them and
 * only kiln_past_length changes.
 *
 * It is also the example of a generation loop against the C ABI
 * (docs/user-guide.md).
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "kiln/Runtime/kiln_runtime.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* The model's entry points, from dlopen. */
typedef struct model {
  int32_t (*num_inputs)(void);
  int32_t (*num_outputs)(void);
  const kiln_tensor_info *(*input)(int32_t);
  const kiln_tensor_info *(*output)(int32_t);
  kiln_status (*run)(const kiln_tensor *, int32_t, kiln_tensor *, int32_t);
  const char *(*last_error)(void);
  void (*set_num_threads)(int32_t);
  void (*free)(void *);
} model;

static void *symbol(void *library, const char *name) {
  void *p = dlsym(library, name);
  if (!p) {
    fprintf(stderr, "generate: the model lacks %s\n", name);
    exit(1);
  }
  return p;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One step's buffers: inputs the loop owns, outputs Kiln allocates. */
typedef struct state {
  int32_t num_inputs, num_outputs, layers;
  kiln_tensor *inputs, *outputs;
  int64_t (*in_shapes)[4], (*out_shapes)[4];
  int64_t heads, head_dim;
  /* --bind-kv-cache models: the caches' room (rows) and the past length. */
  int bound;
  int64_t capacity, past_length;
} state;

static void check(const model *m, kiln_status status) {
  if (status != KILN_OK) {
    fprintf(stderr, "generate: run failed: %s\n", m->last_error());
    exit(1);
  }
}

/* Index of the input or output named `name`, or -1. */
static int32_t find(const model *m, int output, const char *name) {
  int32_t count = output ? m->num_outputs() : m->num_inputs();
  for (int32_t i = 0; i < count; ++i)
    if (!strcmp((output ? m->output(i) : m->input(i))->name, name))
      return i;
  return -1;
}

static void set_input(state *s, int32_t index, void *data, kiln_dtype dtype,
                      int32_t rank, const int64_t *dims) {
  memcpy(s->in_shapes[index], dims, rank * sizeof(int64_t));
  s->inputs[index] = (kiln_tensor){data, dtype, rank, s->in_shapes[index], 0};
}

/* Runs one step of `seq` tokens after a cache of `past` entries held in
 * the past_* inputs; returns the argmax of the last position's logits. The
 * step's present_* outputs replace the past_* inputs (the old ones freed
 * when `owned`). */
static int64_t step(const model *m, state *s, int64_t *ids, int64_t seq,
                    int64_t past, int owned) {
  int64_t total = past + seq;
  int64_t *mask = malloc(total * sizeof(int64_t));
  for (int64_t i = 0; i < total; ++i)
    mask[i] = 1;
  int64_t id_dims[2] = {1, seq}, mask_dims[2] = {1, total};
  set_input(s, find(m, 0, "input_ids"), ids, KILN_INT64, 2, id_dims);
  set_input(s, find(m, 0, "attention_mask"), mask, KILN_INT64, 2, mask_dims);
  if (s->bound) {
    int64_t one = 1;
    s->past_length = past;
    set_input(s, find(m, 0, "kiln_past_length"), &s->past_length, KILN_INT64, 1,
              &one);
  }
  for (int32_t o = 0; o < s->num_outputs; ++o)
    s->outputs[o] = (kiln_tensor){NULL, m->output(o)->dtype, m->output(o)->rank,
                                  s->out_shapes[o], 0};
  check(m, m->run(s->inputs, s->num_inputs, s->outputs, s->num_outputs));
  free(mask);
  /* Greedy: the last position's largest logit. */
  int32_t logits = find(m, 1, "logits");
  int64_t vocab = s->out_shapes[logits][2];
  const float *last =
      (const float *)s->outputs[logits].data + (seq - 1) * vocab;
  int64_t best = 0;
  for (int64_t v = 1; v < vocab; ++v)
    if (last[v] > last[best])
      best = v;
  m->free(s->outputs[logits].data);
  if (s->bound)
    return best;
  /* present_* become the next step's past_*. */
  char name[64];
  for (int32_t l = 0; l < s->layers; ++l)
    for (int kind = 0; kind < 2; ++kind) {
      snprintf(name, sizeof(name), "present_%s_%d", kind ? "value" : "key", l);
      int32_t o = find(m, 1, name);
      snprintf(name, sizeof(name), "past_%s_%d", kind ? "value" : "key", l);
      int32_t i = find(m, 0, name);
      if (owned)
        m->free(s->inputs[i].data);
      set_input(s, i, s->outputs[o].data, KILN_FLOAT32, 4, s->out_shapes[o]);
    }
  return best;
}

/* past_* of `past` random entries, malloc'd into `blocks`: the caller frees
 * them with free() (the step after them must not kiln_free them). Bound
 * caches get the room of s->capacity rows. */
static void random_cache(const model *m, state *s, int64_t past,
                         float **blocks) {
  char name[64];
  int64_t rows = s->bound ? s->capacity : past;
  int64_t dims[4] = {1, s->heads, rows, s->head_dim};
  size_t count = (size_t)s->heads * rows * s->head_dim;
  for (int32_t l = 0; l < s->layers; ++l)
    for (int kind = 0; kind < 2; ++kind) {
      float *data = malloc((count ? count : 1) * sizeof(float));
      for (size_t e = 0; e < count; ++e)
        data[e] = (float)((rand() % 2001) - 1000) / 2000.0f;
      blocks[2 * l + kind] = data;
      snprintf(name, sizeof(name), "past_%s_%d", kind ? "value" : "key", l);
      set_input(s, find(m, 0, name), data, KILN_FLOAT32, 4, dims);
    }
}

int main(int argc, char **argv) {
  const char *path = NULL;
  int64_t prefill = 128, steps = 16, pasts[16];
  int num_pasts = 0, threads = 0, runs = 5;
  int64_t generate = 0, prompt_length = 0, *prompt = NULL;
  for (int a = 1; a < argc; ++a) {
    if (!strcmp(argv[a], "--prefill") && a + 1 < argc)
      prefill = atoll(argv[++a]);
    else if (!strcmp(argv[a], "--past") && a + 1 < argc && num_pasts < 16)
      pasts[num_pasts++] = atoll(argv[++a]);
    else if (!strcmp(argv[a], "--steps") && a + 1 < argc)
      steps = atoll(argv[++a]);
    else if (!strcmp(argv[a], "--threads") && a + 1 < argc)
      threads = atoi(argv[++a]);
    else if (!strcmp(argv[a], "--runs") && a + 1 < argc)
      runs = atoi(argv[++a]);
    else if (!strcmp(argv[a], "--generate") && a + 1 < argc)
      generate = atoll(argv[++a]);
    else if (!strcmp(argv[a], "--prompt") && a + 1 < argc) {
      const char *list = argv[++a];
      prompt_length = 1;
      for (const char *c = list; *c; ++c)
        prompt_length += *c == ',';
      prompt = malloc(prompt_length * sizeof(int64_t));
      char *end = (char *)list;
      for (int64_t i = 0; i < prompt_length; ++i)
        prompt[i] = strtoll(end + (i > 0), &end, 10);
    } else if (!path && argv[a][0] != '-')
      path = argv[a];
    else {
      fprintf(stderr, "usage: generate MODEL.so [--prefill S] [--past P]... "
                      "[--steps N] [--threads T] [--runs R]\n");
      return 2;
    }
  }
  if (!path || steps < 1 || runs < 1) {
    fprintf(stderr, "generate: need MODEL.so, --steps >= 1, --runs >= 1\n");
    return 2;
  }
  if (!num_pasts) {
    pasts[0] = 128, pasts[1] = 512, pasts[2] = 2048;
    num_pasts = 3;
  }
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    fprintf(stderr, "generate: %s\n", dlerror());
    return 1;
  }
  model m = {symbol(library, "kiln_model_num_inputs"),
             symbol(library, "kiln_model_num_outputs"),
             symbol(library, "kiln_model_input"),
             symbol(library, "kiln_model_output"),
             symbol(library, "kiln_model_run"),
             symbol(library, "kiln_model_last_error"),
             symbol(library, "kiln_model_set_num_threads"),
             symbol(library, "kiln_free")};
  if (threads > 0)
    m.set_num_threads(threads);
  state s = {.num_inputs = m.num_inputs(), .num_outputs = m.num_outputs()};
  s.bound = find(&m, 0, "kiln_past_length") >= 0;
  s.layers = (s.num_inputs - 2 - s.bound) / 2;
  if (find(&m, 0, "input_ids") < 0 || find(&m, 0, "past_key_0") < 0 ||
      find(&m, 1, "logits") < 0 || s.layers < 1) {
    fprintf(stderr, "generate: not a decoder with a key/value cache "
                    "(input_ids, attention_mask, past_key_I, ...)\n");
    return 1;
  }
  const kiln_tensor_info *key = m.input(find(&m, 0, "past_key_0"));
  s.heads = key->shape[1];
  s.head_dim = key->shape[3];
  s.inputs = calloc(s.num_inputs, sizeof(kiln_tensor));
  s.outputs = calloc(s.num_outputs, sizeof(kiln_tensor));
  s.in_shapes = calloc(s.num_inputs, sizeof(*s.in_shapes));
  s.out_shapes = calloc(s.num_outputs, sizeof(*s.out_shapes));
  float **blocks = calloc(2 * s.layers, sizeof(float *));
  int64_t *ids = malloc((prefill > 0 ? prefill : 1) * sizeof(int64_t));
  /* Bound caches: room for the longest sequence a loop below runs. */
  s.capacity = generate > 0 ? prompt_length + generate : prefill;
  for (int p = 0; p < num_pasts && generate <= 0; ++p)
    if (pasts[p] + 1 + steps > s.capacity)
      s.capacity = pasts[p] + 1 + steps;

  if (generate > 0) {
    /* Greedy generation after the prompt. */
    if (!prompt || prompt_length < 1) {
      fprintf(stderr, "generate: --generate needs --prompt ID,ID,...\n");
      return 2;
    }
    random_cache(&m, &s, 0, blocks);
    int64_t token = step(&m, &s, prompt, prompt_length, 0, 0);
    for (int32_t i = 0; i < 2 * s.layers && !s.bound; ++i)
      free(blocks[i]);
    printf("{\"tokens\": [%lld", (long long)token);
    for (int64_t t = 1; t < generate; ++t) {
      token = step(&m, &s, &token, 1, prompt_length + t - 1, 1);
      printf(", %lld", (long long)token);
    }
    printf("]}\n");
    return 0;
  }

  /* Prefill: S tokens, empty cache; the presents are dropped. */
  int64_t vocab = m.output(find(&m, 1, "logits"))->shape[2];
  int64_t id_range = vocab > 0 && vocab < 1000 ? vocab : 1000;
  double *times = malloc((runs + 1) * sizeof(double));
  for (int r = 0; r <= runs; ++r) {
    for (int64_t t = 0; t < prefill; ++t)
      ids[t] = (t * 7919 + 11) % id_range;
    random_cache(&m, &s, 0, blocks);
    double start = now_ms();
    step(&m, &s, ids, prefill, 0, 0);
    times[r] = now_ms() - start;
    for (int32_t i = 0; i < 2 * s.layers; ++i)
      free(blocks[i]);
    for (int32_t i = 0; i < s.num_inputs && !s.bound; ++i)
      if (strncmp(m.input(i)->name, "past_", 5) == 0)
        m.free(s.inputs[i].data);
  }
  /* The first run warms up. */
  qsort(times + 1, runs, sizeof(double), compare_doubles);
  printf("{\"prefill\": %lld, \"prefill_ms\": %.3f, \"steps\": %lld, "
         "\"decode\": [",
         (long long)prefill, times[1 + runs / 2], (long long)steps);

  for (int p = 0; p < num_pasts; ++p) {
    random_cache(&m, &s, pasts[p], blocks);
    int64_t token = 1;
    /* One warm-up step on a copy-free path: it is part of the loop. */
    token = step(&m, &s, &token, 1, pasts[p], 0);
    for (int32_t i = 0; i < 2 * s.layers && !s.bound; ++i)
      free(blocks[i]);
    double start = now_ms();
    for (int64_t t = 0; t < steps; ++t)
      token = step(&m, &s, &token, 1, pasts[p] + 1 + t, 1);
    double elapsed = now_ms() - start;
    for (int32_t i = 0; i < 2 * s.layers && s.bound; ++i)
      free(blocks[i]);
    for (int32_t i = 0; i < s.num_inputs && !s.bound; ++i)
      if (strncmp(m.input(i)->name, "past_", 5) == 0)
        m.free(s.inputs[i].data);
    printf("%s{\"past\": %lld, \"tokens_per_s\": %.2f, \"ms_per_token\": %.3f}",
           p ? ", " : "", (long long)pasts[p], steps / (elapsed / 1e3),
           elapsed / steps);
  }
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  printf("], \"peak_rss_mib\": %.1f}\n", usage.ru_maxrss / 1024.0);
  return 0;
}
