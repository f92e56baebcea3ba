//===- Calibration.cpp - activation ranges for static int8 quantization ---===//
//
// Static quantization needs each quantized product's activation range. Kiln
// measures it on the user's calibration inputs with the compiler itself: a
// copy of the optimized graph returns every such activation as an extra
// output, is compiled for this machine into a temporary library, and runs on
// each input set; the ranges (min/max, a percentile, or the entropy
// threshold of their histogram) go back onto the products as
// `kiln.calibration` for kiln-quantize-int8.
//
//===----------------------------------------------------------------------===//

#include "Calibration.h"

#include "kiln/Support/DotProduct.h"
#include "kiln/Support/ProgressBar.h"

#include "kiln/Dialect/Kiln/Transforms/Passes.h"
#include "kiln/Pipelines/Pipelines.h"
#include "kiln/Runner/Runner.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Threading.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir;
using namespace kiln;

namespace {
/// The calibration inputs: one set per subdirectory of the directory, or
/// the directory itself when it holds the files.
struct InputSet {
  std::string dir;
};

/// One activation's statistics over every input set.
struct Statistics {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  /// Counts of |x| in `bins` equal bins over [0, max |x|] (second pass).
  std::vector<double> histogram;
  /// Sums of x^2 and of the squared error of quantizing x with its final
  /// range (budget pass).
  double signal = 0, noise = 0;
};

constexpr int kBins = 2048;
} // namespace

static LogicalResult listInputSets(StringRef dir, std::vector<InputSet> &sets,
                                   Location loc) {
  if (!llvm::sys::fs::is_directory(dir))
    return emitError(loc) << "--calibration-data: '" << dir
                          << "' is not a directory";
  std::vector<std::string> subdirs;
  bool files = false;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    if (llvm::sys::fs::is_directory(it->path()))
      subdirs.push_back(it->path());
    else
      files = true;
  }
  if (ec)
    return emitError(loc) << "--calibration-data: cannot list '" << dir
                          << "': " << ec.message();
  if (files)
    sets.push_back({dir.str()});
  llvm::sort(subdirs);
  for (std::string &sub : subdirs)
    sets.push_back({sub});
  if (sets.empty())
    return emitError(loc) << "--calibration-data: '" << dir
                          << "' holds no input sets (NAME.npy or input_I.pb "
                             "files, or subdirectories of them)";
  return success();
}

/// Reads input `index` (named `name`) of `set`: NAME.npy, else input_I.pb.
static llvm::Expected<HostTensor> readInput(const InputSet &set, StringRef name,
                                            size_t index) {
  SmallString<256> npy(set.dir), pb(set.dir);
  llvm::sys::path::append(npy, name + ".npy");
  llvm::sys::path::append(pb, "input_" + std::to_string(index) + ".pb");
  if (llvm::sys::fs::exists(npy))
    return readTensorFile(npy);
  if (llvm::sys::fs::exists(pb))
    return readTensorFile(pb);
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "calibration set '" + set.dir + "' has no input '" + name + "' (" + name +
          ".npy or input_" + std::to_string(index) + ".pb)");
}

/// The symmetric threshold T of |x| whose clipping to [0, T] loses least
/// information (KL divergence between the histogram clipped at T and its
/// quantization to 128 levels), as TensorRT's entropy calibration chooses.
static double entropyThreshold(const std::vector<double> &histogram,
                               double maxAbs) {
  const int levels = 128;
  int bins = static_cast<int>(histogram.size());
  double best = std::numeric_limits<double>::infinity();
  int bestBins = bins;
  for (int i = levels; i <= bins; ++i) {
    // P: the first i bins, everything beyond added to the last.
    std::vector<double> p(histogram.begin(), histogram.begin() + i);
    for (int j = i; j < bins; ++j)
      p[i - 1] += histogram[j];
    double total = 0;
    for (double v : p)
      total += v;
    if (total == 0)
      continue;
    // Q: P merged into `levels` groups, spread back over each group's
    // nonzero bins.
    std::vector<double> q(i, 0.0);
    for (int l = 0; l < levels; ++l) {
      int begin = l * i / levels, end = (l + 1) * i / levels;
      double sum = 0;
      int nonzero = 0;
      for (int j = begin; j < end; ++j) {
        sum += histogram[j];
        nonzero += histogram[j] != 0;
      }
      for (int j = begin; j < end; ++j)
        if (histogram[j] != 0)
          q[j] = sum / nonzero;
    }
    double qTotal = 0;
    for (double v : q)
      qTotal += v;
    double divergence = 0;
    for (int j = 0; j < i; ++j) {
      if (p[j] == 0)
        continue;
      double pj = p[j] / total, qj = q[j] / qTotal;
      divergence += qj > 0 ? pj * std::log(pj / qj) : pj * 20.0;
    }
    if (divergence < best) {
      best = divergence;
      bestBins = i;
    }
  }
  return maxAbs * bestBins / bins;
}

/// The range [lo, hi] of one activation by `method`.
static std::pair<double, double> rangeOf(const Statistics &s,
                                         StringRef method) {
  if (method == "minmax" || s.histogram.empty())
    return {s.lo, s.hi};
  double maxAbs = std::max(std::fabs(s.lo), std::fabs(s.hi));
  double threshold = maxAbs;
  if (method == "percentile") {
    // 99.99 % of |x| lies below the threshold.
    double total = 0;
    for (double v : s.histogram)
      total += v;
    double seen = 0;
    for (size_t j = 0; j < s.histogram.size(); ++j) {
      seen += s.histogram[j];
      if (seen >= 0.9999 * total) {
        threshold = maxAbs * (j + 1) / s.histogram.size();
        break;
      }
    }
  } else {
    threshold = entropyThreshold(s.histogram, maxAbs);
  }
  return {std::max(s.lo, -threshold), std::min(s.hi, threshold)};
}

/// 10 log10(signal / noise), capped at 200 dB for exact results.
static double decibels(double signal, double noise) {
  if (noise <= 0)
    return 200.0;
  return std::min(200.0, 10.0 * std::log10(signal / noise));
}

/// The uint8 scale and zero point kiln-quantize-int8 derives from [lo, hi].
static std::pair<double, double> uint8Parameters(double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  double scale = std::max((hi - lo) / 255.0, 1e-30);
  return {scale, std::clamp(std::nearbyint(-lo / scale), 0.0, 255.0)};
}

/// The SQNR of quantizing `op`'s constant weight symmetric per output
/// channel into [-range, range], as kiln-quantize-int8 does.
static double weightSqnr(Operation *op, int64_t range) {
  Value weight;
  bool channelsFirst = false; // output channels along dim 0
  if (auto matmul = dyn_cast<MatMulOp>(op)) {
    weight = matmul.getRhs();
  } else if (auto gemm = dyn_cast<GemmOp>(op)) {
    weight = gemm.getB();
    channelsFirst = gemm.getTransB();
  } else if (auto conv = dyn_cast<ConvOp>(op)) {
    weight = conv.getWeight();
    channelsFirst = true;
  }
  std::optional<SmallVector<double>> data =
      weight ? getConstantFloats(weight) : std::nullopt;
  if (!data || data->empty())
    return 0;
  auto type = cast<RankedTensorType>(weight.getType());
  int64_t rows = type.getDimSize(0), cols = type.getNumElements() / rows;
  int64_t channels = channelsFirst ? rows : cols;
  int64_t depth = static_cast<int64_t>(data->size()) / channels;
  auto at = [&](int64_t c, int64_t i) {
    return (*data)[channelsFirst ? c * cols + i : i * cols + c];
  };
  double signal = 0, noise = 0, limit = static_cast<double>(range);
  for (int64_t c = 0; c < channels; ++c) {
    double largest = 0;
    for (int64_t i = 0; i < depth; ++i)
      largest = std::max(largest, std::fabs(at(c, i)));
    double scale = largest > 0 ? largest / limit : 1.0;
    for (int64_t i = 0; i < depth; ++i) {
      double w = at(c, i);
      double q = std::clamp(std::nearbyint(w / scale), -limit, limit);
      signal += w * w;
      noise += (w - q * scale) * (w - q * scale);
    }
  }
  return decibels(signal, noise);
}

namespace {
/// The input sets, read once.
struct CalibrationInputs {
  std::vector<InputSet> sets;
  std::vector<std::vector<HostTensor>> tensors;
};
} // namespace

/// Lists the input sets of `dir` and reads, from each, every input of
/// `model`.
static LogicalResult readInputSets(StringRef dir, const LoadedModel &model,
                                   CalibrationInputs &inputs, Location loc) {
  if (failed(listInputSets(dir, inputs.sets, loc)))
    return failure();
  std::vector<const kiln_tensor_info *> infos = model.inputs();
  // A set holds one file per tensor input; a sequence's or optional's
  // several ABI entries have no files here.
  for (const kiln_tensor_info *info : infos)
    if (info->part != KILN_PART_TENSOR)
      return emitError(loc) << "calibration data for sequence/optional input '"
                            << info->name << "' is not supported";
  for (const InputSet &set : inputs.sets) {
    std::vector<HostTensor> tensors;
    for (size_t i = 0; i < infos.size(); ++i) {
      llvm::Expected<HostTensor> tensor = readInput(set, infos[i]->name, i);
      if (!tensor)
        return emitError(loc)
               << "--calibration-data: " << llvm::toString(tensor.takeError());
      tensors.push_back(std::move(*tensor));
    }
    inputs.tensors.push_back(std::move(tensors));
  }
  return success();
}

/// Runs `model` on every input set and returns, per set, its first
/// `outputs` outputs.
static FailureOr<std::vector<std::vector<HostTensor>>>
runOnSets(LoadedModel &model, const CalibrationInputs &inputs, unsigned outputs,
          Location loc) {
  std::vector<std::vector<HostTensor>> results;
  ProgressBar bar("running on the calibration data", inputs.sets.size());
  for (auto [set, tensors] : llvm::zip(inputs.sets, inputs.tensors)) {
    bar.update(results.size());
    llvm::Expected<std::vector<HostTensor>> out = model.run(tensors);
    if (!out)
      return emitError(loc) << "calibration run on '" << set.dir
                            << "' failed: " << llvm::toString(out.takeError());
    out->resize(outputs);
    results.push_back(std::move(*out));
  }
  return results;
}

/// Loads the library at `path` and runs it as runOnSets does.
static FailureOr<std::vector<std::vector<HostTensor>>>
runOnSets(StringRef path, const CalibrationInputs &inputs, unsigned outputs,
          Location loc) {
  llvm::Expected<LoadedModel> model = LoadedModel::load(path);
  if (!model)
    return emitError(loc) << "calibration: "
                          << llvm::toString(model.takeError());
  return runOnSets(*model, inputs, outputs, loc);
}

/// The SQNR of `test`'s outputs against `reference`'s over every set.
static double outputSqnr(const std::vector<std::vector<HostTensor>> &reference,
                         const std::vector<std::vector<HostTensor>> &test) {
  double signal = 0, noise = 0;
  for (auto [ref, out] : llvm::zip(reference, test))
    for (auto [r, t] : llvm::zip(ref, out))
      for (int64_t i = 0, n = r.numElements(); i < n; ++i) {
        double a = r.elementAsDouble(i), b = t.elementAsDouble(i);
        signal += a * a;
        noise += (a - b) * (a - b);
      }
  return decibels(signal, noise);
}

namespace {
/// A copy of the model that returns, after its outputs, the activation of
/// each product of a list, compiled for this machine into a temporary
/// library (removed with this) and loaded.
struct Instrumented {
  SmallString<128> library;
  llvm::FileRemover removeLibrary;
  std::optional<LoadedModel> model;
  /// The ABI entries of the graph's own outputs (a sequence or an optional
  /// takes several); the activations, tensors, follow them.
  unsigned outputEntries = 0;
  /// Per product, the slot of its activation among those that follow (one
  /// per distinct activation), and the number of slots.
  SmallVector<unsigned> slots;
  unsigned numSlots = 0;
};
} // namespace

/// Fills `out` with the copy of `module` in which the products that
/// `listProducts` finds (`count` of them, as in `module`) return their
/// activations.
static LogicalResult instrument(
    ModuleOp module, const CalibrationOptions &options,
    llvm::function_ref<SmallVector<std::pair<Operation *, Value>>(func::FuncOp)>
        listProducts,
    size_t count, Location loc, Instrumented &out) {
  MLIRContext *context = module.getContext();
  OwningOpRef<ModuleOp> copy = module.clone();
  auto copyFunc = copy->lookupSymbol<func::FuncOp>(options.functionName);
  SmallVector<std::pair<Operation *, Value>> copyProducts =
      listProducts(copyFunc);
  if (copyProducts.size() != count)
    return emitError(loc) << "calibration: the graph's copy differs";
  auto ret = cast<func::ReturnOp>(copyFunc.getBody().back().getTerminator());
  unsigned outputs = ret.getNumOperands();
  SmallVector<Value> results(ret.getOperands());
  llvm::DenseMap<Value, unsigned> slotOf;
  for (auto &[op, activation] : copyProducts) {
    auto [it, inserted] = slotOf.try_emplace(activation, slotOf.size());
    if (inserted)
      results.push_back(activation);
    out.slots.push_back(it->second);
  }
  out.numSlots = slotOf.size();
  ret->setOperands(results);
  SmallVector<Type> resultTypes(ValueRange(results).getTypes());
  copyFunc.setFunctionType(
      FunctionType::get(context, copyFunc.getArgumentTypes(), resultTypes));
  Builder b(context);
  SmallVector<DictionaryAttr> resultAttrs;
  for (unsigned i = 0; i < outputs; ++i)
    resultAttrs.push_back(copyFunc.getResultAttrDict(i));
  for (unsigned i = outputs; i < results.size(); ++i)
    resultAttrs.push_back(b.getDictionaryAttr(b.getNamedAttr(
        "kiln.name",
        b.getStringAttr("kiln_calibration_" + std::to_string(i - outputs)))));
  copyFunc.setAllResultAttrs(resultAttrs);

  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "kiln-calibration", "so", out.library))
    return emitError(loc) << "calibration: cannot create a temporary file: "
                          << ec.message();
  out.removeLibrary.setFile(out.library);
  if (failed(options.compile(*copy, out.library)))
    return failure();
  llvm::Expected<LoadedModel> model = LoadedModel::load(out.library);
  if (!model)
    return emitError(loc) << "calibration: "
                          << llvm::toString(model.takeError());
  out.outputEntries = model->outputs().size() - out.numSlots;
  out.model.emplace(std::move(*model));
  return success();
}

LogicalResult kiln::calibrate(ModuleOp module,
                              const CalibrationOptions &options, Location loc,
                              CalibrationResult &result) {
  auto func = module.lookupSymbol<func::FuncOp>(options.functionName);
  if (!func)
    return emitError(loc) << "calibration: no function '"
                          << options.functionName << "'";
  SmallVector<std::pair<Operation *, Value>> products = int8QuantizableProducts(
      func, options.minWeightElements, options.convolutions);
  if (products.empty())
    return success();

  Instrumented instrumented;
  if (failed(instrument(
          module, options,
          [&](func::FuncOp copy) {
            return int8QuantizableProducts(copy, options.minWeightElements,
                                           options.convolutions);
          },
          products.size(), loc, instrumented)))
    return failure();
  LoadedModel *model = &*instrumented.model;
  unsigned outputEntries = instrumented.outputEntries;
  ArrayRef<unsigned> slots = instrumented.slots;
  Builder b(module.getContext());

  CalibrationInputs inputs;
  if (failed(readInputSets(options.dataDir, *model, inputs, loc)))
    return failure();
  std::vector<Statistics> stats(instrumented.numSlots);
  // The float model's outputs, for the budget.
  std::vector<std::vector<HostTensor>> reference;
  // Pass 0: min and max; 1 (percentile, entropy): histograms of |x|;
  // 2 (budget): the error of quantizing with the final range.
  unsigned passes = 1 + (options.method != "minmax") + bool(options.budgetDb);
  ProgressBar bar("calibrating", passes * inputs.sets.size());
  unsigned runsDone = 0;
  for (int pass = 0; pass < 3; ++pass) {
    if ((pass == 1 && options.method == "minmax") ||
        (pass == 2 && !options.budgetDb))
      continue;
    std::vector<std::pair<double, double>> parameters;
    for (Statistics &s : stats) {
      if (pass == 1)
        s.histogram.assign(kBins, 0.0);
      if (pass == 2) {
        auto [lo, hi] = rangeOf(s, options.method);
        parameters.push_back(uint8Parameters(lo, hi));
      }
    }
    for (auto [set, tensors] : llvm::zip(inputs.sets, inputs.tensors)) {
      bar.update(runsDone++);
      llvm::Expected<std::vector<HostTensor>> out = model->run(tensors);
      if (!out)
        return emitError(loc)
               << "calibration run on '" << set.dir
               << "' failed: " << llvm::toString(out.takeError());
      if (pass == 0)
        reference.emplace_back(out->begin(), out->begin() + outputEntries);
      for (unsigned slot = 0; slot < stats.size(); ++slot) {
        const HostTensor &t = (*out)[outputEntries + slot];
        Statistics &s = stats[slot];
        int64_t n = t.numElements();
        if (pass == 0) {
          for (int64_t i = 0; i < n; ++i) {
            double v = t.elementAsDouble(i);
            s.lo = std::min(s.lo, v);
            s.hi = std::max(s.hi, v);
          }
        } else if (pass == 1) {
          double maxAbs = std::max(std::fabs(s.lo), std::fabs(s.hi));
          if (maxAbs == 0)
            continue;
          for (int64_t i = 0; i < n; ++i) {
            double v = std::fabs(t.elementAsDouble(i));
            int bin = std::min(kBins - 1, static_cast<int>(v / maxAbs * kBins));
            s.histogram[bin] += 1;
          }
        } else {
          auto [scale, zeroPoint] = parameters[slot];
          for (int64_t i = 0; i < n; ++i) {
            double v = t.elementAsDouble(i);
            double q =
                std::clamp(std::nearbyint(v / scale) + zeroPoint, 0.0, 255.0);
            double e = v - (q - zeroPoint) * scale;
            s.signal += v * v;
            s.noise += e * e;
          }
        }
      }
    }
  }
  auto setRange = [&](const CalibratedRange &layer) {
    layer.op->setAttr(kCalibrationAttr,
                      b.getDenseF32ArrayAttr({static_cast<float>(layer.lo),
                                              static_cast<float>(layer.hi)}));
  };
  for (auto [i, product] : llvm::enumerate(products)) {
    const Statistics &s = stats[slots[i]];
    if (!std::isfinite(s.lo) || !std::isfinite(s.hi))
      continue; // no values seen (empty tensors): stays in float
    auto [lo, hi] = rangeOf(s, options.method);
    CalibratedRange layer;
    layer.op = product.first;
    layer.lo = lo;
    layer.hi = hi;
    if (options.budgetDb) {
      layer.activationSqnr = decibels(s.signal, s.noise);
      layer.weightSqnr = weightSqnr(product.first, options.weightRange);
    }
    layer.reason = "int8";
    setRange(layer);
    result.layers.push_back(layer);
  }
  if (!options.budgetDb)
    return success();

  // The budget: the layers whose quantization errs most (by the combined
  // SQNR of activation and weight) stay in float, 1, 2, 4, ... of them,
  // until the compiled model's output SQNR meets it.
  SmallVector<unsigned> order(result.layers.size());
  std::iota(order.begin(), order.end(), 0);
  auto combined = [&](const CalibratedRange &l) {
    return -10.0 * std::log10(std::pow(10.0, -l.activationSqnr / 10.0) +
                              std::pow(10.0, -l.weightSqnr / 10.0));
  };
  // Ties keep the layers' order (llvm::sort with the index as the last key:
  // std::stable_sort's buffer is deprecated in this libstdc++).
  llvm::sort(order, [&](unsigned a, unsigned c) {
    double x = combined(result.layers[a]), y = combined(result.layers[c]);
    return x != y ? x < y : a < c;
  });
  // The output SQNR with the first `kept` layers of `order` in float.
  llvm::DenseMap<size_t, double> measured;
  auto apply = [&](size_t kept) {
    for (auto [rank, index] : llvm::enumerate(order)) {
      CalibratedRange &layer = result.layers[index];
      layer.keptFloat = rank < kept;
      if (layer.keptFloat)
        layer.op->removeAttr(kCalibrationAttr);
      else
        setRange(layer);
    }
  };
  auto evaluate = [&](size_t kept) -> FailureOr<double> {
    if (kept == order.size())
      return 200.0; // every product in float: exact
    if (auto it = measured.find(kept); it != measured.end())
      return it->second;
    apply(kept);
    OwningOpRef<ModuleOp> quantized = module.clone();
    SmallString<128> path;
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("kiln-budget", "so", path))
      return emitError(loc)
             << "calibration: cannot create a temporary file: " << ec.message();
    llvm::FileRemover removePath(path);
    if (failed(options.compileQuantized(*quantized, path)))
      return failure();
    FailureOr<std::vector<std::vector<HostTensor>>> out =
        runOnSets(path, inputs, outputEntries, loc);
    if (failed(out))
      return failure();
    return measured[kept] = outputSqnr(reference, *out);
  };
  // Doubling finds a count that meets the budget, bisection the least.
  size_t below = 0, kept = 0;
  while (true) {
    FailureOr<double> sqnr = evaluate(kept);
    if (failed(sqnr))
      return failure();
    if (*sqnr >= *options.budgetDb)
      break;
    below = kept;
    kept = std::min(order.size(), kept == 0 ? size_t(1) : 2 * kept);
  }
  while (kept > 0 && kept - below > 1) {
    size_t mid = below + (kept - below) / 2;
    FailureOr<double> sqnr = evaluate(mid);
    if (failed(sqnr))
      return failure();
    (*sqnr >= *options.budgetDb ? kept : below) = mid;
  }
  apply(kept);
  result.outputSqnr = *evaluate(kept);
  std::string budget = llvm::formatv("{0:f1}", *options.budgetDb).str();
  for (CalibratedRange &layer : result.layers)
    if (layer.keptFloat)
      layer.reason = "fp32: its quantization errs more than the int8 "
                     "layers', kept in float to meet the " +
                     budget + " dB budget";
  return success();
}

namespace {
/// The running sum of x^T x over an activation's rows x [K].
struct SecondMoment {
  int64_t k = 0;
  /// The lower triangle of the sum, [K, K] row-major.
  std::vector<double> sum;
  int64_t rows = 0;
};
} // namespace

/// Adds the rows of `t` (its last dim K) to `m`, 64 rows at a time: the
/// rows transposed to [K, 64], then each (i, j <= i) gains the dot product
/// of rows i and j of it (the i run in parallel).
static void accumulate(MLIRContext *context, const HostTensor &t,
                       SecondMoment &m) {
  constexpr int64_t kChunk = 64;
  int64_t k = m.k, rows = t.numElements() / k;
  std::vector<double> columns(k * kChunk);
  for (int64_t first = 0; first < rows; first += kChunk) {
    int64_t count = std::min(kChunk, rows - first);
    for (int64_t r = 0; r < count; ++r)
      for (int64_t i = 0; i < k; ++i)
        columns[i * kChunk + r] = t.elementAsDouble((first + r) * k + i);
    parallelFor(context, 0, k, [&](size_t row) {
      int64_t i = static_cast<int64_t>(row);
      const double *xi = columns.data() + i * kChunk;
      double *sum = m.sum.data() + i * k;
      for (int64_t j = 0; j <= i; ++j)
        sum[j] += dotProduct(xi, columns.data() + j * kChunk, count);
    });
  }
  m.rows += rows;
}

/// The weight-only products kiln-quantize-weights quantizes in `func`.
static SmallVector<std::pair<Operation *, Value>>
weightOnlyProducts(func::FuncOp func, int64_t minWeightElements,
                   int64_t group) {
  SmallVector<std::pair<Operation *, Value>> products;
  func.walk([&](MatMulOp op) {
    if (isWeightOnlyProduct(op, minWeightElements, group))
      products.push_back({op, op.getLhs()});
  });
  return products;
}

LogicalResult kiln::calibrateWeights(ModuleOp module,
                                     const CalibrationOptions &options,
                                     int64_t group, Location loc,
                                     WeightCalibrationResult &result) {
  MLIRContext *context = module.getContext();
  auto func = module.lookupSymbol<func::FuncOp>(options.functionName);
  if (!func)
    return emitError(loc) << "calibration: no function '"
                          << options.functionName << "'";
  auto list = [&](func::FuncOp f) {
    return weightOnlyProducts(f, options.minWeightElements, group);
  };
  SmallVector<std::pair<Operation *, Value>> products = list(func);
  if (products.empty())
    return success();
  Instrumented instrumented;
  if (failed(instrument(module, options, list, products.size(), loc,
                        instrumented)))
    return failure();
  std::vector<SecondMoment> moments(instrumented.numSlots);
  for (auto [product, slot] : llvm::zip(products, instrumented.slots)) {
    SecondMoment &m = moments[slot];
    m.k =
        cast<RankedTensorType>(cast<MatMulOp>(product.first).getRhs().getType())
            .getDimSize(0);
    m.sum.assign(m.k * m.k, 0.0);
  }
  CalibrationInputs inputs;
  if (failed(readInputSets(options.dataDir, *instrumented.model, inputs, loc)))
    return failure();
  ProgressBar bar("measuring activations for GPTQ", inputs.sets.size());
  for (auto [index, set] : llvm::enumerate(inputs.sets)) {
    bar.update(index);
    llvm::Expected<std::vector<HostTensor>> out =
        instrumented.model->run(inputs.tensors[index]);
    if (!out)
      return emitError(loc) << "calibration run on '" << set.dir
                            << "' failed: " << llvm::toString(out.takeError());
    for (auto [slot, m] : llvm::enumerate(moments))
      accumulate(context, (*out)[instrumented.outputEntries + slot], m);
  }
  // The mean, symmetric, as f32 [K, K] on each product of the activation.
  Builder b(context);
  SmallVector<Attribute> attrs;
  int64_t minRows = std::numeric_limits<int64_t>::max(), maxDepth = 0;
  for (auto [slot, m] : llvm::enumerate(moments)) {
    // Fewer rows than K leave H singular: GPTQ would fit the few rows seen
    // rather than the activation's distribution, so such a weight rounds
    // to nearest.
    if (m.rows < m.k) {
      attrs.push_back({});
      ++result.tooFewRows;
      minRows = std::min(minRows, m.rows);
      maxDepth = std::max(maxDepth, m.k);
      continue;
    }
    std::vector<float> mean(m.k * m.k);
    double scale = 1.0 / static_cast<double>(m.rows);
    for (int64_t i = 0; i < m.k; ++i)
      for (int64_t j = 0; j <= i; ++j)
        mean[i * m.k + j] = mean[j * m.k + i] =
            static_cast<float>(m.sum[i * m.k + j] * scale);
    auto type = RankedTensorType::get({m.k, m.k}, b.getF32Type());
    attrs.push_back(DenseResourceElementsAttr::get(
        type, "kiln_hessian_" + std::to_string(slot),
        HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<float>(mean))));
    result.rows = std::max(result.rows, m.rows);
    ++result.activations;
  }
  for (auto [product, slot] : llvm::zip(products, instrumented.slots))
    if (attrs[slot]) {
      product.first->setAttr(kHessianAttr, attrs[slot]);
      ++result.products;
    }
  result.inputSets = inputs.sets.size();
  if (result.tooFewRows)
    emitWarning(loc) << "--calibration-data gave " << minRows
                     << " activation rows (tokens, pixels) where weights are "
                     << maxDepth << " deep: " << result.tooFewRows
                     << " activations have fewer rows than their weights' "
                        "depth, so their weights round to nearest instead of "
                        "GPTQ; give more or longer input sets (several "
                        "times the depth in rows)";
  return success();
}

LogicalResult kiln::transferHessians(ModuleOp from, ModuleOp to,
                                     const CalibrationOptions &options,
                                     int64_t group, Location loc) {
  auto fromFunc = from.lookupSymbol<func::FuncOp>(options.functionName);
  auto toFunc = to.lookupSymbol<func::FuncOp>(options.functionName);
  if (!fromFunc || !toFunc)
    return emitError(loc) << "calibration: no function '"
                          << options.functionName << "'";
  auto source = weightOnlyProducts(fromFunc, options.minWeightElements, group);
  auto target = weightOnlyProducts(toFunc, options.minWeightElements, group);
  auto weightOf = [](Operation *op) {
    ElementsAttr weight;
    return matchPattern(cast<MatMulOp>(op).getRhs(), m_Constant(&weight))
               ? weight
               : ElementsAttr();
  };
  // Constants the graph passes build (a horizontally fused weight) are new
  // resources in each run: equal by their values, not their names.
  auto sameWeights = [&](Operation *a, Operation *b) {
    ElementsAttr x = weightOf(a), y = weightOf(b);
    if (x == y)
      return true;
    if (!x || !y || x.getType() != y.getType())
      return false;
    auto rx = dyn_cast<DenseResourceElementsAttr>(x);
    auto ry = dyn_cast<DenseResourceElementsAttr>(y);
    if (rx && ry && rx.getRawHandle().getBlob() && ry.getRawHandle().getBlob())
      return rx.getRawHandle().getBlob()->getData() ==
             ry.getRawHandle().getBlob()->getData();
    return getFloatValues(x) == getFloatValues(y);
  };
  if (source.size() != target.size() ||
      !llvm::all_of(llvm::zip(source, target), [&](auto pair) {
        return sameWeights(std::get<0>(pair).first, std::get<1>(pair).first);
      }))
    return emitError(loc) << "calibration: the graph measured without bound "
                             "caches differs from the one compiled with "
                             "--bind-kv-cache";
  for (auto [s, t] : llvm::zip(source, target))
    if (Attribute hessian = s.first->getAttr(kHessianAttr))
      t.first->setAttr(kHessianAttr, hessian);
  return success();
}

struct OutputComparison::State {
  CalibrationOptions options;
  Location loc;
  CalibrationInputs inputs;
  unsigned outputs = 0;
  std::vector<std::vector<HostTensor>> reference;
};

OutputComparison::OutputComparison() = default;
OutputComparison::OutputComparison(OutputComparison &&) = default;
OutputComparison::~OutputComparison() = default;

/// Compiles a copy of `module` into a temporary library at `path`.
static LogicalResult compileCopy(ModuleOp module,
                                 const CalibrationOptions &options,
                                 SmallString<128> &path, Location loc) {
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("kiln-compare", "so", path))
    return emitError(loc) << "calibration: cannot create a temporary file: "
                          << ec.message();
  OwningOpRef<ModuleOp> copy = module.clone();
  return options.compile(*copy, path);
}

FailureOr<OutputComparison>
OutputComparison::create(ModuleOp reference, const CalibrationOptions &options,
                         Location loc) {
  OutputComparison comparison;
  comparison.state.reset(new State{options, loc, {}, 0, {}});
  State &s = *comparison.state;
  SmallString<128> library;
  LogicalResult compiled = compileCopy(reference, options, library, loc);
  llvm::FileRemover removeLibrary(library);
  if (failed(compiled))
    return failure();
  llvm::Expected<LoadedModel> model = LoadedModel::load(library);
  if (!model)
    return emitError(loc) << "calibration: "
                          << llvm::toString(model.takeError());
  if (failed(readInputSets(options.dataDir, *model, s.inputs, loc)))
    return failure();
  s.outputs = model->outputs().size();
  FailureOr<std::vector<std::vector<HostTensor>>> out =
      runOnSets(*model, s.inputs, s.outputs, loc);
  if (failed(out))
    return failure();
  s.reference = std::move(*out);
  return comparison;
}

FailureOr<double> OutputComparison::sqnr(ModuleOp candidate) {
  State &s = *state;
  SmallString<128> library;
  LogicalResult compiled = compileCopy(candidate, s.options, library, s.loc);
  llvm::FileRemover removeLibrary(library);
  if (failed(compiled))
    return failure();
  FailureOr<std::vector<std::vector<HostTensor>>> out =
      runOnSets(library, s.inputs, s.outputs, s.loc);
  if (failed(out))
    return failure();
  return outputSqnr(s.reference, *out);
}
