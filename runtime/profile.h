/*===- profile.h - kernel timing inside the runtime ------------------------===*
 *
 * The part of runtime/profile.c that kiln_runtime.c calls.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_PROFILE_H
#define KILN_RUNTIME_PROFILE_H

/* Starts the calling thread's record of a run (empties it while profiling
 * is on). */
void kiln_profile_start_run(void);

#endif /* KILN_RUNTIME_PROFILE_H */
