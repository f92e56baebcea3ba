//===- Profile.cpp - per-kernel times of a model built with --profile -----===//
//
// kiln-run --profile and Model.profile in Python: runs a model whose kernels
// kiln-profile-kernels bracketed with timers, sums each kernel's intervals
// over the runs and writes the runs as a Chrome trace.
//
//===----------------------------------------------------------------------===//

#include "kiln/Runner/Runner.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>

using namespace kiln;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

static int64_t monotonicNs() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec;
}

llvm::Error kiln::requireProfiling(const LoadedModel &model) {
  if (model.profileKernels().empty())
    return makeError("the model was compiled without --profile, so it has "
                     "no kernel timers: compile it again with "
                     "kiln-compile --profile");
  return llvm::Error::success();
}

llvm::Expected<ProfileResult>
kiln::profile(const LoadedModel &model, const std::vector<HostTensor> &inputs,
              unsigned runs, unsigned warmup, RunProgress progress) {
  if (llvm::Error error = requireProfiling(model))
    return std::move(error);
  std::vector<std::string> names = model.profileKernels();
  if (llvm::Error error = warmUp(model, inputs, warmup, runs, progress))
    return std::move(error);

  std::vector<double> totalNs(names.size(), 0), calls(names.size(), 0);
  std::vector<double> latencies;
  llvm::json::Array trace;
  int64_t origin = -1;
  auto micros = [&](int64_t ns) { return double(ns - origin) / 1000.0; };
  double kernelsNs = 0;
  model.setProfiling(true);
  for (unsigned run = 0; run < runs; ++run) {
    int64_t begin = monotonicNs();
    llvm::Error error = model.runDiscardingOutputs(inputs);
    int64_t end = monotonicNs();
    if (error) {
      model.setProfiling(false);
      return std::move(error);
    }
    if (progress)
      progress(warmup + run + 1, warmup + runs);
    if (origin < 0)
      origin = begin;
    latencies.push_back(double(end - begin) / 1e6);
    trace.push_back(llvm::json::Object{{"name", "run " + std::to_string(run)},
                                       {"cat", "run"},
                                       {"ph", "X"},
                                       {"pid", 1},
                                       {"tid", 1},
                                       {"ts", micros(begin)},
                                       {"dur", double(end - begin) / 1000.0}});
    for (const kiln_profile_event &event : model.profileEvents()) {
      if (event.kernel < 0 || size_t(event.kernel) >= names.size() ||
          event.end_ns < event.begin_ns)
        continue;
      double ns = double(event.end_ns - event.begin_ns);
      totalNs[event.kernel] += ns;
      calls[event.kernel] += 1;
      kernelsNs += ns;
      trace.push_back(llvm::json::Object{{"name", names[event.kernel]},
                                         {"cat", "kernel"},
                                         {"ph", "X"},
                                         {"pid", 1},
                                         {"tid", 1},
                                         {"ts", micros(event.begin_ns)},
                                         {"dur", ns / 1000.0}});
    }
  }
  model.setProfiling(false);

  ProfileResult result;
  result.runs = runs;
  if (runs == 0)
    return result;
  for (double ms : latencies)
    result.meanMs += ms / runs;
  std::sort(latencies.begin(), latencies.end());
  result.medianMs = latencies[latencies.size() / 2];
  result.kernelsMs = kernelsNs / 1e6 / runs;
  for (size_t k = 0; k < names.size(); ++k)
    if (calls[k] > 0)
      result.kernels.push_back(
          {names[k], totalNs[k] / 1e6 / runs, calls[k] / runs});
  std::sort(result.kernels.begin(), result.kernels.end(),
            [](const KernelTime &a, const KernelTime &b) {
              return a.msPerRun != b.msPerRun ? a.msPerRun > b.msPerRun
                                              : a.name < b.name;
            });
  llvm::raw_string_ostream os(result.traceJson);
  os << llvm::json::Value(llvm::json::Object{{"traceEvents", std::move(trace)},
                                             {"displayTimeUnit", "ms"}});
  return result;
}
