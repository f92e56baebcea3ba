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

#include "kiln/Dialect/Kiln/Transforms/Passes.h"
#include "kiln/Pipelines/Pipelines.h"
#include "kiln/Runner/Runner.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

LogicalResult kiln::calibrate(ModuleOp module,
                              const CalibrationOptions &options, Location loc,
                              SmallVectorImpl<CalibratedRange> &ranges) {
  MLIRContext *context = module.getContext();
  auto func = module.lookupSymbol<func::FuncOp>("main_graph");
  if (!func)
    return emitError(loc) << "calibration: no function 'main_graph'";
  SmallVector<std::pair<Operation *, Value>> products =
      int8QuantizableProducts(func, options.minWeightElements);
  if (products.empty())
    return success();

  // The copy that returns each distinct activation after the outputs.
  OwningOpRef<ModuleOp> copy = module.clone();
  auto copyFunc = copy->lookupSymbol<func::FuncOp>("main_graph");
  SmallVector<std::pair<Operation *, Value>> copyProducts =
      int8QuantizableProducts(copyFunc, options.minWeightElements);
  if (copyProducts.size() != products.size())
    return emitError(loc) << "calibration: the graph's copy differs";
  auto ret = cast<func::ReturnOp>(copyFunc.getBody().back().getTerminator());
  unsigned outputs = ret.getNumOperands();
  SmallVector<Value> results(ret.getOperands());
  llvm::DenseMap<Value, unsigned> slotOf;
  SmallVector<unsigned> slots;
  for (auto &[op, activation] : copyProducts) {
    auto [it, inserted] = slotOf.try_emplace(activation, slotOf.size());
    if (inserted)
      results.push_back(activation);
    slots.push_back(it->second);
  }
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

  // Compiled for this machine, into a temporary library.
  SmallString<128> library;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("kiln-calibration", "so", library))
    return emitError(loc) << "calibration: cannot create a temporary file: "
                          << ec.message();
  llvm::FileRemover removeLibrary(library);
  if (failed(options.compile(*copy, library)))
    return failure();
  llvm::Expected<LoadedModel> model = LoadedModel::load(library);
  if (!model)
    return emitError(loc) << "calibration: "
                          << llvm::toString(model.takeError());

  std::vector<InputSet> sets;
  if (failed(listInputSets(options.dataDir, sets, loc)))
    return failure();
  std::vector<const kiln_tensor_info *> infos = model->inputs();
  std::vector<Statistics> stats(slotOf.size());
  // Pass 0: min and max; pass 1 (percentile, entropy): histograms of |x|.
  int passes = options.method == "minmax" ? 1 : 2;
  for (int pass = 0; pass < passes; ++pass) {
    for (Statistics &s : stats)
      if (pass == 1)
        s.histogram.assign(kBins, 0.0);
    for (const InputSet &set : sets) {
      std::vector<HostTensor> inputs;
      for (size_t i = 0; i < infos.size(); ++i) {
        llvm::Expected<HostTensor> tensor = readInput(set, infos[i]->name, i);
        if (!tensor)
          return emitError(loc) << "--calibration-data: "
                                << llvm::toString(tensor.takeError());
        inputs.push_back(std::move(*tensor));
      }
      llvm::Expected<std::vector<HostTensor>> out = model->run(inputs);
      if (!out)
        return emitError(loc)
               << "calibration run on '" << set.dir
               << "' failed: " << llvm::toString(out.takeError());
      for (unsigned slot = 0; slot < stats.size(); ++slot) {
        const HostTensor &t = (*out)[outputs + slot];
        Statistics &s = stats[slot];
        int64_t n = t.numElements();
        if (pass == 0) {
          for (int64_t i = 0; i < n; ++i) {
            double v = t.elementAsDouble(i);
            s.lo = std::min(s.lo, v);
            s.hi = std::max(s.hi, v);
          }
          continue;
        }
        double maxAbs = std::max(std::fabs(s.lo), std::fabs(s.hi));
        if (maxAbs == 0)
          continue;
        for (int64_t i = 0; i < n; ++i) {
          double v = std::fabs(t.elementAsDouble(i));
          int bin = std::min(kBins - 1, static_cast<int>(v / maxAbs * kBins));
          s.histogram[bin] += 1;
        }
      }
    }
  }
  for (auto [i, product] : llvm::enumerate(products)) {
    const Statistics &s = stats[slots[i]];
    if (!std::isfinite(s.lo) || !std::isfinite(s.hi))
      continue; // no values seen (empty tensors): stays in float
    auto [lo, hi] = rangeOf(s, options.method);
    product.first->setAttr(kCalibrationAttr,
                           b.getDenseF32ArrayAttr({static_cast<float>(lo),
                                                   static_cast<float>(hi)}));
    ranges.push_back({product.first, lo, hi});
  }
  return success();
}
