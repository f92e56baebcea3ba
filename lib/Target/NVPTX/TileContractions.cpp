//===- TileContractions.cpp - matrix products as tiled GPU kernels --------===//
//
// Each f32 matrix product (linalg.matmul, batch_matmul, and any generic whose
// body is out + a * b over projected maps) becomes one launch of a kernel
// that stages 128 x 16 tiles of A and 16 x 128 tiles of B in shared memory and
// has each of its 256 threads accumulate an 8 x 8 block of C in registers.
//
//===----------------------------------------------------------------------===//

#include "kiln/Target/NVPTX/Passes.h"

#include "../CPU/Contraction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace kiln {
#define GEN_PASS_DEF_KILNGPUTILECONTRACTIONS
#include "kiln/Target/NVPTX/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {
/// The kernel's shape: a block computes kTile x kTile outputs with
/// kThreads threads, each kPerThread x kPerThread of them, stepping kDepth
/// along k; thread (ty, tx) owns two runs of 4 rows (ty * 4, 64 + ty * 4)
/// and two of 4 columns (tx * 4, 64 + tx * 4), read from shared memory 16
/// bytes at a time.
constexpr int64_t kTile = 128, kDepth = 16, kPerThread = 8;
constexpr int64_t kLanes = kTile / kPerThread;        // 16
constexpr int64_t kThreads = kLanes * kLanes;         // 256
constexpr int64_t kLoads = kTile * kDepth / kThreads; // 8 per operand
/// A's tile is stored transposed ([k][m]) with rows padded by 4 words: the
/// stores of a warp (16 k by 2 m) then fall into at most two per bank.
constexpr int64_t kAStride = kTile + 4;
/// The width of a thread's shared memory loads.
constexpr int64_t kVector = 4;
/// Products with a static M or N below this keep one thread per output.
constexpr int64_t kMinExtent = 16;

/// Builds index arithmetic that folds constants as it goes.
struct Builder {
  OpBuilder &b;
  Location loc;
  Value constant(int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v);
  }
  Value add(Value x, Value y) {
    return b.createOrFold<arith::AddIOp>(loc, x, y);
  }
  Value mul(Value x, Value y) {
    return b.createOrFold<arith::MulIOp>(loc, x, y);
  }
  Value div(Value x, Value y) {
    return b.createOrFold<arith::DivUIOp>(loc, x, y);
  }
  Value rem(Value x, Value y) {
    return b.createOrFold<arith::RemUIOp>(loc, x, y);
  }
  Value less(Value x, Value y) {
    return b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, x, y);
  }
  Value min(Value x, Value y) {
    return b.createOrFold<arith::MinUIOp>(loc, x, y);
  }
  Value both(Value x, Value y) {
    return b.createOrFold<arith::AndIOp>(loc, x, y);
  }
};

/// The indices of `map`'s operand (each result a loop dim or 0) at the loop
/// values `ivs`.
SmallVector<Value> operandIndices(AffineMap map, ArrayRef<Value> ivs,
                                  Value zero) {
  SmallVector<Value> indices;
  for (AffineExpr e : map.getResults())
    indices.push_back(isa<AffineDimExpr>(e)
                          ? ivs[cast<AffineDimExpr>(e).getPosition()]
                          : zero);
  return indices;
}

/// Whether `op` sits directly in its function (not in a loop, whose other
/// iterations a launch would have to wait for).
bool atTopLevel(Operation *op) {
  return isa<FunctionOpInterface>(op->getParentOp());
}

/// Replaces `op`, a matrix product with `loops`, by the tiled kernel.
void tile(linalg::LinalgOp op, const kiln::cpu::GemmLoops &loops) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Builder ib{b, loc};
  MLIRContext *context = op.getContext();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  Value lhs = op.getDpsInputOperand(0)->get();
  Value rhs = op.getDpsInputOperand(1)->get();
  Value out = op.getDpsInitOperand(0)->get();

  SmallVector<Value> sizes;
  for (Range range : op.createLoopRanges(b, loc))
    sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, range.size));
  Value m = sizes[loops.m], n = sizes[loops.n], k = sizes[loops.k];
  Value zero = ib.constant(0), one = ib.constant(1);
  Value batch = one;
  for (unsigned d : loops.batch)
    batch = ib.mul(batch, sizes[d]);
  Value tile = ib.constant(kTile);
  Value rowTiles = b.createOrFold<arith::CeilDivUIOp>(loc, m, tile);
  Value columnTiles = b.createOrFold<arith::CeilDivUIOp>(loc, n, tile);
  // An empty output still launches one block (a grid has at least one),
  // which does nothing; the launch needs no host-side branch, which would
  // make the host wait for the kernels before it.
  Value work = ib.both(ib.both(ib.less(zero, m), ib.less(zero, n)),
                       ib.less(zero, batch));
  auto atLeastOne = [&](Value v) {
    return b.createOrFold<arith::MaxUIOp>(loc, v, one);
  };

  auto workgroup =
      gpu::AddressSpaceAttr::get(context, gpu::AddressSpace::Workgroup);
  Type f32 = b.getF32Type();
  auto aTileType = MemRefType::get({kDepth, kAStride}, f32,
                                   MemRefLayoutAttrInterface(), workgroup);
  auto bTileType = MemRefType::get({kDepth, kTile}, f32,
                                   MemRefLayoutAttrInterface(), workgroup);
  // Blocks: x runs over (batch, column tile), y over row tiles.
  Value gridX = atLeastOne(ib.mul(batch, columnTiles));
  columnTiles = atLeastOne(columnTiles);
  auto launch = gpu::LaunchOp::create(
      b, loc, gridX, atLeastOne(rowTiles), one, ib.constant(kThreads), one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, TypeRange{aTileType, bTileType});
  Value aTile = launch.getWorkgroupAttributions()[0];
  Value bTile = launch.getWorkgroupAttributions()[1];
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  auto inside = scf::IfOp::create(b, loc, work, /*withElseRegion=*/false);
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPointToStart(inside.thenBlock());
  Value thread = launch.getThreadIds().x;
  Value lanes = ib.constant(kLanes);
  Value tx = ib.rem(thread, lanes), ty = ib.div(thread, lanes);
  // Element e of a thread's 8 rows (columns): 4 consecutive ones from
  // lane * 4, then 4 from 64 + lane * 4. A quarter warp's 16-byte loads
  // then cover 128 consecutive bytes of shared memory (no bank conflict).
  auto ownIndex = [&](Value lane, int64_t e) {
    return ib.add(ib.mul(lane, ib.constant(kVector)),
                  ib.constant(e / kVector * (kTile / 2) + e % kVector));
  };
  auto fragment = [&](Value tileBuffer, Value step, Value lane) {
    SmallVector<Value> values;
    auto type = VectorType::get({kVector}, f32);
    for (int64_t run = 0; run < kPerThread / kVector; ++run) {
      Value vector = vector::LoadOp::create(
          b, loc, type, tileBuffer,
          ValueRange{step, ownIndex(lane, run * kVector)},
          /*nontemporal=*/false, llvm::MaybeAlign(kVector * 4));
      for (int64_t e = 0; e < kVector; ++e)
        values.push_back(vector::ExtractOp::create(b, loc, vector, e));
    }
    return values;
  };
  Value columnTile = ib.rem(launch.getBlockIds().x, columnTiles);
  Value batchIndex = ib.div(launch.getBlockIds().x, columnTiles);
  Value row0 = ib.mul(launch.getBlockIds().y, tile);
  Value column0 = ib.mul(columnTile, tile);

  // The loop values every load and store shares: the batch indices.
  SmallVector<Value> ivs(sizes.size(), zero);
  for (unsigned d : llvm::reverse(loops.batch)) {
    ivs[d] = ib.rem(batchIndex, sizes[d]);
    batchIndex = ib.div(batchIndex, sizes[d]);
  }
  Value lastRow = b.createOrFold<arith::SubIOp>(loc, m, one);
  Value lastColumn = b.createOrFold<arith::SubIOp>(loc, n, one);
  Value lastDepth = b.createOrFold<arith::SubIOp>(loc, k, one);

  // What each thread loads per k step: kLoads elements of A's tile
  // (thread t: k offset t % 16, rows t / 16 + 16 i) and of B's (k offset
  // t / 128 + 2 i, column t % 128). Out-of-range elements load an in-range
  // address and become 0.
  Value depth = ib.constant(kDepth);
  Value aDepth = ib.rem(thread, depth);
  Value bColumn = ib.rem(thread, tile);
  Value bColumnGlobal = ib.add(column0, bColumn);
  Value bColumnIn = ib.less(bColumnGlobal, n);
  Value bColumnSafe = ib.min(bColumnGlobal, lastColumn);
  SmallVector<Value> aRows, aRowsIn, aRowsSafe, bDepths;
  for (int64_t i = 0; i < kLoads; ++i) {
    Value rowInTile =
        ib.add(ib.div(thread, depth), ib.constant(i * kThreads / kDepth));
    aRows.push_back(rowInTile);
    Value row = ib.add(row0, rowInTile);
    aRowsIn.push_back(ib.less(row, m));
    aRowsSafe.push_back(ib.min(row, lastRow));
    bDepths.push_back(
        ib.add(ib.div(thread, tile), ib.constant(i * kThreads / kTile)));
  }

  Value zeroF = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  SmallVector<Value> initial(kPerThread * kPerThread, zeroF);
  auto kLoop = scf::ForOp::create(b, loc, zero, k, depth, initial);
  {
    OpBuilder::InsertionGuard insideLoop(b);
    b.setInsertionPointToStart(kLoop.getBody());
    Value k0 = kLoop.getInductionVar();
    for (int64_t i = 0; i < kLoads; ++i) {
      // A[row][k0 + aDepth] into aTile[aDepth][row].
      Value kA = ib.add(k0, aDepth);
      Value inA = ib.both(aRowsIn[i], ib.less(kA, k));
      SmallVector<Value> at = ivs;
      at[loops.m] = aRowsSafe[i];
      at[loops.k] = ib.min(kA, lastDepth);
      Value a = memref::LoadOp::create(b, loc, lhs,
                                       operandIndices(maps[0], at, zero));
      a = arith::SelectOp::create(b, loc, inA, a, zeroF);
      memref::StoreOp::create(b, loc, a, aTile, ValueRange{aDepth, aRows[i]});
      // B[k0 + bDepth][column] into bTile[bDepth][column].
      Value kB = ib.add(k0, bDepths[i]);
      Value inB = ib.both(bColumnIn, ib.less(kB, k));
      SmallVector<Value> bt = ivs;
      bt[loops.n] = bColumnSafe;
      bt[loops.k] = ib.min(kB, lastDepth);
      Value bValue = memref::LoadOp::create(b, loc, rhs,
                                            operandIndices(maps[1], bt, zero));
      bValue = arith::SelectOp::create(b, loc, inB, bValue, zeroF);
      memref::StoreOp::create(b, loc, bValue, bTile,
                              ValueRange{bDepths[i], bColumn});
    }
    gpu::BarrierOp::create(b, loc);
    SmallVector<Value> acc(kLoop.getRegionIterArgs().begin(),
                           kLoop.getRegionIterArgs().end());
    for (int64_t kk = 0; kk < kDepth; ++kk) {
      Value step = ib.constant(kk);
      // Two 16-byte loads per operand: the thread's rows (columns) are
      // two runs of 4, at ty * 4 and 64 + ty * 4.
      SmallVector<Value> as = fragment(aTile, step, ty),
                         bs = fragment(bTile, step, tx);
      for (int64_t i = 0; i < kPerThread; ++i)
        for (int64_t j = 0; j < kPerThread; ++j) {
          Value &c = acc[i * kPerThread + j];
          c = math::FmaOp::create(b, loc, as[i], bs[j], c);
        }
    }
    gpu::BarrierOp::create(b, loc);
    scf::YieldOp::create(b, loc, acc);
  }

  // C[row][column] += the thread's sums.
  for (int64_t i = 0; i < kPerThread; ++i)
    for (int64_t j = 0; j < kPerThread; ++j) {
      Value row = ib.add(row0, ownIndex(ty, i));
      Value column = ib.add(column0, ownIndex(tx, j));
      auto store = scf::IfOp::create(
          b, loc, ib.both(ib.less(row, m), ib.less(column, n)),
          /*withElseRegion=*/false);
      OpBuilder::InsertionGuard inside(b);
      b.setInsertionPointToStart(store.thenBlock());
      SmallVector<Value> at = ivs;
      at[loops.m] = row;
      at[loops.n] = column;
      SmallVector<Value> indices = operandIndices(maps[2], at, zero);
      Value old = memref::LoadOp::create(b, loc, out, indices);
      Value sum = arith::AddFOp::create(b, loc, old,
                                        kLoop.getResult(i * kPerThread + j));
      memref::StoreOp::create(b, loc, sum, out, indices);
    }
  op->erase();
}

struct TileContractions
    : kiln::impl::KilnGPUTileContractionsBase<TileContractions> {
  void runOnOperation() override {
    SmallVector<std::pair<linalg::LinalgOp, kiln::cpu::GemmLoops>> products;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op.hasPureBufferSemantics() || !atTopLevel(op) ||
          op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
        return;
      std::optional<kiln::cpu::GemmLoops> loops = kiln::cpu::matchGemm(op);
      if (!loops)
        return;
      // Products with few rows or columns (a decode step's GEMV) keep one
      // thread per output, reading the weights once along its row.
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      auto narrow = [&](unsigned d) {
        return !ShapedType::isDynamic(ranges[d]) && ranges[d] < kMinExtent;
      };
      if (narrow(loops->m) || narrow(loops->n))
        return;
      products.emplace_back(op, *loops);
    });
    for (auto &[op, loops] : products)
      tile(op, loops);
  }
};
} // namespace
