//===- ReduceRows.cpp - a warp per reduced row ----------------------------===//

#include "kiln/Target/NVPTX/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"

namespace kiln {
#define GEN_PASS_DEF_KILNGPUREDUCEROWS
#include "kiln/Target/NVPTX/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {
constexpr int64_t kWarp = 32, kWarpsPerBlock = 8;

/// A reduction this pass runs: its combiner (the one op of the body that
/// reads the output's value) and the combiner's neutral element.
struct RowReduction {
  Operation *combiner;
  TypedAttr identity;
};

/// Whether `op` reduces only its innermost loop, with a body of the form
/// out = combine(f(inputs), out) for an associative, commutative `combine`
/// with a neutral element, on 32-bit values (the widths warp shuffles move).
std::optional<RowReduction> matchRowReduction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      !isa<FunctionOpInterface>(op->getParentOp()))
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (iterators.empty() || iterators.back() != utils::IteratorType::reduction ||
      llvm::count(iterators, utils::IteratorType::reduction) != 1)
    return std::nullopt;
  // The output is indexed by the parallel loops alone.
  AffineMap outputMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!outputMap.isProjectedPermutation() ||
      outputMap.isFunctionOfDim(iterators.size() - 1))
    return std::nullopt;
  Block *body = op.getBlock();
  if (!body->getOps<linalg::IndexOp>().empty())
    return std::nullopt;
  Type element = body->getArguments().back().getType();
  if (element.getIntOrFloatBitWidth() != 32)
    return std::nullopt;
  SmallVector<Operation *> combiners;
  SmallVector<BlockArgument> outputs(op.getRegionOutputArgs());
  Value reduced = matchReduction(outputs, 0, combiners);
  if (!reduced || combiners.size() != 1 ||
      !isa<arith::AddFOp, arith::MulFOp, arith::MaximumFOp, arith::MinimumFOp,
           arith::MaxNumFOp, arith::MinNumFOp, arith::AddIOp, arith::MulIOp,
           arith::MaxSIOp, arith::MinSIOp, arith::MaxUIOp, arith::MinUIOp,
           arith::AndIOp, arith::OrIOp, arith::XOrIOp>(combiners.front()))
    return std::nullopt;
  std::optional<TypedAttr> identity =
      arith::getNeutralElement(combiners.front());
  if (!identity)
    return std::nullopt;
  return RowReduction{combiners.front(), *identity};
}

/// Replaces `op` by a launch with one warp per output element: each lane
/// folds every 32nd element of the row into a partial result, the warp
/// combines the partials with shuffles, and lane 0 combines them with the
/// output's initial value.
void reduceRows(linalg::GenericOp op, const RowReduction &reduction) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto constant = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  SmallVector<Value> sizes;
  for (Range range :
       cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(b, loc))
    sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, range.size));
  unsigned rank = sizes.size();
  Value one = constant(1);
  Value rows = one;
  for (unsigned d = 0; d + 1 < rank; ++d)
    rows = b.createOrFold<arith::MulIOp>(loc, rows, sizes[d]);
  Value warps = constant(kWarpsPerBlock);
  Value blocks = b.createOrFold<arith::MaxUIOp>(
      loc, b.createOrFold<arith::CeilDivUIOp>(loc, rows, warps), one);
  auto launch = gpu::LaunchOp::create(
      b, loc, blocks, one, one, constant(kWarp * kWarpsPerBlock), one, one);
  Block &launchBody = launch.getBody().front();
  b.setInsertionPointToStart(&launchBody);
  Value warpSize = constant(kWarp);
  Value thread = launch.getThreadIds().x;
  Value lane = arith::RemUIOp::create(b, loc, thread, warpSize);
  Value row = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, warps),
      arith::DivUIOp::create(b, loc, thread, warpSize));
  // The whole warp takes the branch or skips it: the shuffles inside see
  // every lane.
  auto inRange = scf::IfOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, rows),
      /*withElseRegion=*/false);
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPointToStart(inRange.thenBlock());

  SmallVector<Value> ivs(rank);
  Value rest = row;
  for (int d = static_cast<int>(rank) - 2; d >= 0; --d) {
    ivs[d] = arith::RemUIOp::create(b, loc, rest, sizes[d]);
    rest = arith::DivUIOp::create(b, loc, rest, sizes[d]);
  }
  auto indices = [&](OpOperand *operand) {
    SmallVector<Value> result;
    for (AffineExpr e : op.getMatchingIndexingMap(operand).getResults()) {
      if (auto dim = dyn_cast<AffineDimExpr>(e))
        result.push_back(ivs[dim.getPosition()]);
      else
        result.push_back(constant(cast<AffineConstantExpr>(e).getValue()));
    }
    return result;
  };

  Block *body = op.getBlock();
  Value identity = arith::ConstantOp::create(b, loc, reduction.identity);
  auto lanes = scf::ForOp::create(
      b, loc, lane, sizes[rank - 1], warpSize, ValueRange{identity},
      [&](OpBuilder &nb, Location nl, Value j, ValueRange partial) {
        ivs[rank - 1] = j;
        IRMapping mapping;
        for (OpOperand *input : op.getDpsInputOperands()) {
          Value value =
              memref::LoadOp::create(nb, nl, input->get(), indices(input));
          mapping.map(body->getArgument(input->getOperandNumber()), value);
        }
        mapping.map(body->getArguments().back(), partial.front());
        for (Operation &bodyOp : body->without_terminator())
          nb.clone(bodyOp, mapping);
        Value next = mapping.lookup(body->getTerminator()->getOperand(0));
        scf::YieldOp::create(nb, nl, next);
      });
  auto combine = [&](Value x, Value y) {
    IRMapping mapping;
    mapping.map(reduction.combiner->getOperand(0), x);
    mapping.map(reduction.combiner->getOperand(1), y);
    return b.clone(*reduction.combiner, mapping)->getResult(0);
  };
  Value partial = lanes.getResult(0);
  Value width = arith::ConstantIntOp::create(b, loc, kWarp, 32);
  for (int64_t offset = kWarp / 2; offset >= 1; offset /= 2) {
    Value other =
        gpu::ShuffleOp::create(b, loc, partial,
                               arith::ConstantIntOp::create(b, loc, offset, 32),
                               width, gpu::ShuffleMode::XOR)
            .getShuffleResult();
    partial = combine(partial, other);
  }
  auto first =
      scf::IfOp::create(b, loc,
                        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                              lane, constant(0)),
                        /*withElseRegion=*/false);
  b.setInsertionPointToStart(first.thenBlock());
  OpOperand *output = op.getDpsInitOperand(0);
  SmallVector<Value> at = indices(output);
  Value initial = memref::LoadOp::create(b, loc, output->get(), at);
  memref::StoreOp::create(b, loc, combine(initial, partial), output->get(), at);
  op->erase();
}

struct ReduceRows : kiln::impl::KilnGPUReduceRowsBase<ReduceRows> {
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, RowReduction>> reductions;
    getOperation().walk([&](linalg::GenericOp op) {
      std::optional<RowReduction> reduction = matchRowReduction(op);
      if (!reduction)
        return;
      // Short rows keep one thread per row.
      int64_t extent = op.getStaticLoopRanges().back();
      if (!ShapedType::isDynamic(extent) && extent < kWarp)
        return;
      reductions.emplace_back(op, *reduction);
    });
    for (auto &[op, reduction] : reductions)
      reduceRows(op, reduction);
  }
};
} // namespace
