/*===- profile.c - per-kernel times of models built with --profile ---------===*
 *
 * kiln-compile --profile brackets each kernel of the model function with
 * kiln_profile_begin(id) / kiln_profile_end(id) (kiln-profile-kernels) and
 * exports the kernels' names as kiln_model_profile_kernels, one per line.
 * While profiling is on, each calling thread records its run's kernels with
 * their CLOCK_MONOTONIC times; while it is off the hooks return at once.
 * Kernels do not nest: the hooks run on the calling thread, around work that
 * may itself use the OpenMP team.
 *
 *===----------------------------------------------------------------------===*/

#include "profile.h"

#include "kiln/Runtime/kiln_runtime.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KILN_EXPORT __attribute__((visibility("default")))

/* Present only in models compiled with --profile. */
extern const char kiln_model_profile_kernels[] __attribute__((weak));

static char **names;
static int32_t num_names;
static pthread_once_t parsed = PTHREAD_ONCE_INIT;
static atomic_int profiling;

typedef struct profile_log {
  kiln_profile_event *events;
  int32_t count, capacity;
} profile_log;
static _Thread_local profile_log run_log;

static void parse_names(void) {
  const char *list = kiln_model_profile_kernels;
  if (!list)
    return;
  int32_t lines = 0;
  for (const char *p = list; *p; ++p)
    lines += *p == '\n';
  char **table = calloc(lines ? lines : 1, sizeof(char *));
  if (!table)
    return;
  int32_t count = 0;
  for (const char *p = list; *p && count < lines;) {
    const char *end = strchr(p, '\n');
    size_t length = (size_t)(end - p);
    char *name = malloc(length + 1);
    if (!name)
      break;
    memcpy(name, p, length);
    name[length] = '\0';
    table[count++] = name;
    p = end + 1;
  }
  names = table;
  num_names = count;
}

KILN_EXPORT int32_t kiln_model_profile_num_kernels(void) {
  pthread_once(&parsed, parse_names);
  return num_names;
}

KILN_EXPORT const char *kiln_model_profile_kernel(int32_t index) {
  if (index < 0 || index >= kiln_model_profile_num_kernels())
    return NULL;
  return names[index];
}

KILN_EXPORT void kiln_model_profile_enable(int32_t on) {
  atomic_store_explicit(&profiling, on != 0, memory_order_relaxed);
}

KILN_EXPORT int32_t
kiln_model_profile_events(const kiln_profile_event **events) {
  if (events)
    *events = run_log.events;
  return run_log.count;
}

void kiln_profile_start_run(void) {
  if (atomic_load_explicit(&profiling, memory_order_relaxed))
    run_log.count = 0;
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Called by the compiled code (hidden: the model's own). An event that does
 * not fit (no memory) is dropped. */
void kiln_profile_begin(int32_t kernel) {
  if (!atomic_load_explicit(&profiling, memory_order_relaxed))
    return;
  profile_log *log = &run_log;
  if (log->count == log->capacity) {
    int32_t capacity = log->capacity ? 2 * log->capacity : 256;
    kiln_profile_event *grown =
        realloc(log->events, (size_t)capacity * sizeof(kiln_profile_event));
    if (!grown)
      return;
    log->events = grown;
    log->capacity = capacity;
  }
  kiln_profile_event *e = &log->events[log->count++];
  e->kernel = kernel;
  e->end_ns = -1;
  e->begin_ns = now_ns();
}

void kiln_profile_end(int32_t kernel) {
  if (!atomic_load_explicit(&profiling, memory_order_relaxed))
    return;
  profile_log *log = &run_log;
  if (log->count && log->events[log->count - 1].kernel == kernel &&
      log->events[log->count - 1].end_ns < 0)
    log->events[log->count - 1].end_ns = now_ns();
}
