//===- Contraction.h - contractions a microkernel computes -------*- C++
//-*-===//
//
// The shapes of linalg ops that the runtime's microkernels compute, found
// from indexing maps and bodies alone, so that the strategy pass (on
// tensors) and the lowering (on buffers) agree on them.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_TARGET_CPU_CONTRACTION_H
#define KILN_LIB_TARGET_CPU_CONTRACTION_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <optional>

namespace kiln::cpu {

/// A matrix product C[batch..][m][n] += A[..][m][k] * B[..][k][n] over the
/// loops of a linalg op. Loop dims missing from an operand are broadcast
/// (stride 0) for it.
struct GemmLoops {
  /// Parallel loops other than m and n, outermost first.
  llvm::SmallVector<unsigned> batch;
  unsigned m, n, k;
};

/// The loops of `op` as a matrix product, when its body is `out + a * b` on
/// f32 and each operand map projects the loops (results that are loop dims
/// or the constant 0).
std::optional<GemmLoops> matchGemm(mlir::linalg::LinalgOp op);

/// An exact 8-bit matrix product into i32, as convert-kiln-to-linalg builds
/// kiln.matmul_integer: inputs (a, b, zero points...), body
/// `out + (ext(a) - ext(za)) * (ext(b) - ext(zb))`, each zero point absent,
/// an input read once or per row (za) / per column (zb), or an i32 constant
/// (where fusion folded a constant zero point into the body).
struct IGemm {
  GemmLoops loops;
  bool lhsUnsigned, rhsUnsigned;
  /// The input operand numbers of the zero points, or -1.
  int lhsZeroPoint, rhsZeroPoint;
  /// The zero points that are constants in the body.
  std::optional<int64_t> lhsZeroValue, rhsZeroValue;
};

std::optional<IGemm> matchIGemm(mlir::linalg::LinalgOp op);

/// A matrix product with a weight-only quantized rhs, as
/// convert-kiln-to-linalg builds matmul of kiln.dequantize_blocks: inputs
/// (a f32 [..][m][k], q i8 [k][n], s f32 [k floordiv group][n], and with
/// zero points z i8 indexed as s), body `out + a * (sitofp(q) * s)` or
/// `out + a * ((sitofp(q) - sitofp(z)) * s)`.
struct WeightOnlyGemm {
  GemmLoops loops;
  int64_t group;
  bool zeroPoints;
};

std::optional<WeightOnlyGemm> matchWeightOnlyGemm(mlir::linalg::LinalgOp op);

/// The dequantization of an 8-bit product's i32 result: an elementwise op
/// with inputs (the i32 tensor, a scale read once or per element of the
/// innermost dim or of the one before) writing `sitofp(acc) * scale` in
/// f32, which the igemm kernel can store directly.
struct Dequantization {
  bool perColumn, perRow;
};

std::optional<Dequantization> matchDequantization(mlir::linalg::LinalgOp op);

/// The requantization of an 8-bit product's i32 result, as
/// kiln-cpu-fuse-requantization builds it: an elementwise op with inputs
/// (the i32 tensor, a scale, an offset; each of the two read once or per
/// element of the innermost dim or of the one before) writing
/// `roundeven(clamp(sitofp(acc) * scale + offset, lo, hi))` as 8-bit
/// integers (unsigned when lo >= 0), which the igemm kernel can store.
struct Requantization {
  int64_t lo, hi;
};

std::optional<Requantization> matchRequantization(mlir::linalg::LinalgOp op);

/// The dequantization of an 8-bit product's i32 result plus a bias and a
/// residual, as kiln-cpu-fuse-requantization builds it: an elementwise op
/// with inputs (the i32 tensor, a scale, an offset, an f32 tensor of the
/// result's shape) writing `sitofp(acc) * scale + offset + r` in f32, r the
/// residual's element or (`relu`) max of it and 0.
struct DequantizedSum {
  bool relu;
};

std::optional<DequantizedSum> matchDequantizedSum(mlir::linalg::LinalgOp op);

/// Which loop of an elementwise op the values of its input `operand` vary
/// along, when they vary along at most one of its last two loops (a
/// product's rows or columns): -1 for none, else the loop. Nullopt when the
/// input varies along any other loop or along both.
std::optional<int> rowOrColumnOperand(mlir::linalg::LinalgOp op,
                                      mlir::OpOperand *operand);

/// The grouped 2-D convolution that convert-kiln-to-linalg builds: loops
/// (n, g, m, oh, ow, c, kh, kw), input [n][g][c][oh*sh + kh*dh][ow*sw + kw*dw],
/// weight [g][m][c][kh][kw], output [n][g][m][oh][ow].
struct Conv2DLoops {
  int64_t strides[2];
  int64_t dilations[2];
};

std::optional<Conv2DLoops> matchConv2D(mlir::linalg::LinalgOp op);

/// The window max that convert-kiln-to-linalg builds for kiln.max_pool:
/// loops (n, c, oh, ow, kh, kw), inputs (x [n][c][oh*sh + kh*dh][ow*sw +
/// kw*dw], a [kh][kw] tensor read for its shape only), output
/// [n][c][oh][ow], body `maximumf(out, x)` on f32. Its window geometry is a
/// convolution's.
using Pool2DLoops = Conv2DLoops;

std::optional<Pool2DLoops> matchMaxPool2D(mlir::linalg::LinalgOp op);

/// The window copy that convert-kiln-to-linalg builds for kiln.im2col: a
/// generic over (n, c, i, j, oh, ow) yielding its one input, read at
/// [n][c][oh*sh + i*dh][ow*sw + j*dw], into [N][C][kh][kw][OH][OW]. An 8-bit
/// product whose rhs is its result (viewed as [N][C*kh*kw][OH*OW]) reads
/// the windows in place instead (kiln_ukernel_igemm_windows_*).
struct WindowCopy {
  int64_t strides[2];
  int64_t dilations[2];
};

std::optional<WindowCopy> matchWindowCopy(mlir::linalg::LinalgOp op);

/// The zero padding of a convolution's input on tensors: the tensor.pad
/// that `input` ([n][g][c][h][w], an expand_shape of [n][g*c][h][w]) reads,
/// when it pads the rows and columns only, by constant amounts, with +0.0;
/// else null. A kernel that pads implicitly reads the pad's source instead.
mlir::tensor::PadOp spatialZeroPadding(mlir::Value input);

/// The -inf padding of a max pooling's input on tensors: the tensor.pad that
/// `input` ([n][c][h][w]) is, when it pads the rows and columns only, by
/// constant amounts, with -inf; else null.
mlir::tensor::PadOp spatialNegInfPadding(mlir::Value input);

/// Whether `op` carries the decision of a kernel that pads its input itself
/// (`padding = "implicit"`).
bool padsImplicitly(mlir::Operation *op);

/// Whether `op` is a linalg.fill with +0.0 (or integer 0): an output that
/// starts as zero, which a kernel overwrites instead of accumulating into.
bool isZeroFill(mlir::Operation *op);

/// Whether `op` writes the sum of its inputs (one or two f32 values, each read
/// through a map that projects the loops) to every element of its output,
/// never reading the output: what initializes a product's accumulator to its
/// bias, or bias plus residual, which the kernel's epilogue can add instead.
bool isAddendSum(mlir::linalg::LinalgOp op);

/// The bounds [lo, hi] when `op` is an elementwise clamp of its one f32 input
/// (ReLU, Clip, any chain of maximumf/minimumf or compare-and-select with
/// constants that keeps a NaN a NaN), which the kernel's epilogue applies.
std::optional<std::pair<float, float>> matchClamp(mlir::linalg::LinalgOp op);

/// The microkernel instruction sets, widest first (the runtime's kiln_isa).
enum class ISA { AVX512 = 0, AVX2 = 1, Generic = 2 };

std::optional<ISA> parseISA(llvm::StringRef name);
llvm::StringRef stringifyISA(ISA isa);

/// The accumulator block (rows, columns) of the runtime's microkernel for
/// `isa` (runtime/cpu/gemm.c).
std::pair<int64_t, int64_t> registerTile(ISA isa);

/// The accumulator block of the 8-bit kernel for `isa` (runtime/cpu/igemm.c).
std::pair<int64_t, int64_t> integerRegisterTile(ISA isa);

/// The register tile of the direct convolution kernel on `isa`: output
/// channels per vector (the weights' panel height) and the most output
/// pixels a tile holds; nullopt when `isa` has no such kernel.
std::optional<std::pair<int64_t, int64_t>> directConvTile(ISA isa);

/// How the 8-bit kernel for `isa` wants a constant B packed (the runtime's
/// kiln_ukernel_igemm_packing; `narrow`: B's stored values lie in
/// [-64, 64]): panels of `width` columns, `format` (kiln_igemm_format:
/// 4 bytes, 5 bytes of 7-bit values, 2 int16 pairs), column sums per
/// `block` k.
struct IntegerPacking {
  int64_t width, format, block;
  /// k per packed unit: 2 for int16 pairs, else 4.
  int64_t depth() const { return format == 2 ? 2 : 4; }
};
IntegerPacking integerPacking(ISA isa, bool narrow);

/// How the 8-bit kernel for `isa` wants a constant A packed (the runtime's
/// kiln_ukernel_igemm_lhs_packing): panels of `width` rows (the register
/// tile's height), `format`, row sums per `block` k; `narrow` for 7-bit
/// signed values times an unsigned B (AVX2: format 6, bytes stored signed).
IntegerPacking integerLhsPacking(ISA isa, bool narrow);

/// Columns of a block of the block-sparse product kernel
/// (runtime/cpu/sgemm_sparse.c): a block is one k row of a panel of this
/// many columns.
inline constexpr int64_t kSparseBlockWidth = 16;

/// The zeros of a constant K x N weight: elements, and 1 x 16 blocks of the
/// sparse kernel's panels (a panel past n counts its real columns only).
struct WeightSparsity {
  int64_t elements = 0, zeroElements = 0, blocks = 0, zeroBlocks = 0;
  double zeroElementShare() const {
    return elements ? double(zeroElements) / elements : 0.0;
  }
  double zeroBlockShare() const {
    return blocks ? double(zeroBlocks) / blocks : 0.0;
  }
};

/// Element (kk, j) of the weight is data[kk * kStride + j * nStride].
WeightSparsity measureWeightSparsity(llvm::ArrayRef<float> data, int64_t k,
                                     int64_t n, int64_t kStride,
                                     int64_t nStride);

/// The cost model of the sparse kernel: its estimated time over the dense
/// kernel's for a weight with these zeros on `isa`. The sparse kernel does
/// one broadcast multiply-add per row and nonzero block, the dense one the
/// same per row and block of every block; measured on AVX-512 and AVX2
/// (128 x 3072 x 768 and single rows, 2 threads) the sparse kernel takes
/// 0.95-1.05x the dense kernel's time per block it keeps.
double sparseTimeRatio(ISA isa, const WeightSparsity &sparsity);

/// The accumulator block of the sparse kernel for `isa`: rows by one block.
std::pair<int64_t, int64_t> sparseRegisterTile(ISA isa);

/// The estimated time ratio below which the strategy picks the sparse
/// kernel: it must save a quarter of the time (about 30 % zero blocks).
inline constexpr double kSparseTimeRatioLimit = 0.75;

/// The name of the attribute the strategy pass sets.
inline constexpr llvm::StringLiteral kUKernelAttr = "kiln.ukernel";

} // namespace kiln::cpu

#endif // KILN_LIB_TARGET_CPU_CONTRACTION_H
