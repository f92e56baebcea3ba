//===- BindKVCache.cpp - caller-owned key/value cache buffers -------------===//
//
// A decoder's `present = Concat(past, new rows)` outputs copy the whole
// cache on every step. With --bind-kv-cache the caller owns one buffer per
// cache, with room for the rows to come: the model reads the past from it
// and writes the new rows into it, so a step writes one row per cache.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Dialect/Kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/BitVector.h"

namespace kiln {
#define GEN_PASS_DEF_KILNBINDKVCACHE
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

/// The name of the input that holds the number of past rows.
static constexpr StringLiteral kPastLength = "kiln_past_length";

namespace {

/// A present output `Concat(past argument, new rows)`.
struct Binding {
  BlockArgument past;
  ConcatOp concat;
  unsigned result;
  int64_t axis;
};

struct KilnBindKVCachePass
    : public kiln::impl::KilnBindKVCacheBase<KilnBindKVCachePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(functionName);
    if (!func || func.isExternal()) {
      module.emitError() << "no function '" << functionName << "' to compile";
      return signalPassFailure();
    }
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (auto name = func.getArgAttrOfType<StringAttr>(i, "kiln.name");
          name && name.getValue() == kPastLength) {
        func.emitError() << "--bind-kv-cache adds an input named '"
                         << kPastLength << "', which the model already has";
        return signalPassFailure();
      }

    // Outputs Concat(past argument, x) along one axis, each argument once.
    auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
    SmallVector<Binding> bindings;
    for (auto [index, value] : llvm::enumerate(ret.getOperands())) {
      auto concat = value.getDefiningOp<ConcatOp>();
      if (!concat || concat.getInputs().size() != 2)
        continue;
      auto past = dyn_cast<BlockArgument>(concat.getInputs()[0]);
      if (!past || past.getOwner() != &func.getBody().front())
        continue;
      int64_t rank = concat.getType().getRank();
      int64_t axis =
          concat.getAxis() < 0 ? concat.getAxis() + rank : concat.getAxis();
      bool taken = llvm::any_of(bindings, [&](const Binding &b) {
        return b.past == past || b.concat == concat;
      });
      if (!taken)
        bindings.push_back({past, concat, (unsigned)index, axis});
    }
    if (bindings.empty()) {
      func.emitError()
          << "--bind-kv-cache: no output is a Concat of a graph input and "
             "new rows (a decoder's present key/value), so there is no "
             "cache to bind";
      return signalPassFailure();
    }

    MLIRContext *context = &getContext();
    Block &entry = func.getBody().front();
    Location loc = func.getLoc();
    auto lengthType = RankedTensorType::get({1}, IntegerType::get(context, 64));
    if (failed(func.insertArgument(
            func.getNumArguments(), lengthType,
            DictionaryAttr::get(
                context,
                {NamedAttribute(StringAttr::get(context, "kiln.name"),
                                StringAttr::get(context, kPastLength))}),
            loc)))
      return signalPassFailure();
    Value pastLength = entry.getArguments().back();
    OpBuilder b = OpBuilder::atBlockBegin(&entry);
    auto vector = [&](int64_t v) -> Value {
      return ConstantOp::create(
          b, loc, DenseIntElementsAttr::get(lengthType, ArrayRef<int64_t>{v}));
    };
    Value zero = vector(0), one = vector(1);

    llvm::BitVector erased(func.getNumResults());
    for (Binding &binding : bindings) {
      auto pastType = cast<RankedTensorType>(binding.past.getType());
      SmallVector<int64_t> shape(pastType.getShape());
      shape[binding.axis] = ShapedType::kDynamic;
      auto cacheType = RankedTensorType::get(shape, pastType.getElementType());
      binding.past.setType(cacheType);
      func.setArgAttr(binding.past.getArgNumber(), "kiln.kv_cache",
                      UnitAttr::get(context));

      // The graph's past: the buffer's first kiln_past_length rows.
      b.setInsertionPointAfterValue(one);
      Value axis = vector(binding.axis);
      Value past = SliceOp::create(b, loc, cacheType, binding.past, zero,
                                   pastLength, axis, one);
      binding.past.replaceAllUsesExcept(past, past.getDefiningOp());

      // The new rows go into the buffer; present reads its first rows.
      ConcatOp concat = binding.concat;
      b.setInsertionPoint(concat);
      Location at = concat.getLoc();
      Value rows = concat.getInputs()[1];
      Value updated = CacheUpdateOp::create(b, at, binding.past, rows,
                                            pastLength, binding.axis);
      Value count = ShapeOp::create(b, at, rows, binding.axis,
                                    b.getI64IntegerAttr(binding.axis + 1));
      Value total = AddOp::create(b, at, pastLength, count);
      Value present = SliceOp::create(b, at, concat.getType(), updated, zero,
                                      total, axis, one);
      concat.getResult().replaceAllUsesWith(present);
      concat.erase();
      erased.set(binding.result);
    }
    ret->eraseOperands(erased);
    if (failed(func.eraseResults(erased)))
      return signalPassFailure();
    func.setType(FunctionType::get(context, entry.getArgumentTypes(),
                                   func.getResultTypes()));
  }
};

} // namespace
