//===- LossOps.cpp - import of the ONNX loss operators --------------------===//
//
// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss are expressed with
// kiln ops: the class scores are picked with gather_elements along the class
// axis, weighted, and reduced.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

namespace {
/// Builds the loss of one node.
struct LossBuilder : Decomposer {
  using Decomposer::Decomposer;

  /// The negative log-likelihood of `logProb` [N, C, d...] at `target`
  /// [N, d...], with the node's `reduction`, `ignore_index` and the optional
  /// class `weight` [C].
  Value negativeLogLikelihood(Value logProb, Value target, Value weight) {
    std::string reduction = n.stringAttr("reduction", "mean");
    Type element = cast<RankedTensorType>(logProb.getType()).getElementType();
    Type index = cast<RankedTensorType>(target.getType()).getElementType();
    Value safe = target, ignored;
    if (n.hasAttr("ignore_index")) {
      ignored =
          op<EqualOp>({target, scalar(index, n.intAttr("ignore_index", 0))});
      safe = op<WhereOp>({ignored, scalar(index, 0), target});
    }
    Value picked = op<GatherElementsOp>(
        {logProb, op<UnsqueezeOp>(safe, {n.namedI64s("axes", {1})})},
        {n.namedI64("axis", 1)});
    Value loss = op<NegOp>(op<SqueezeOp>(picked, {n.namedI64s("axes", {1})}));
    // The weight of each element: its class weight, 0 where ignored.
    Value w;
    if (weight)
      w = op<GatherOp>({weight, safe}, {n.namedI64("axis", 0)});
    if (ignored)
      w = op<WhereOp>(
          {ignored, scalar(element, 0), w ? w : scalar(element, 1)});
    if (w)
      loss = op<MulOp>({loss, w});
    if (reduction == "none")
      return loss;
    if (reduction == "sum")
      return reduce<ReduceSumOp>(loss, {}, false);
    if (w)
      return op<DivOp>({reduce<ReduceSumOp>(loss, {}, false),
                        reduce<ReduceSumOp>(w, {}, false)});
    return reduce<ReduceMeanOp>(loss, {}, false);
  }
};

/// Checks `reduction` and the class-axis shapes shared by both losses.
LogicalResult checkLossOperands(NodeImporter &n) {
  std::string reduction = n.stringAttr("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean")
    return n.emitError() << "unknown reduction \"" << reduction
                         << "\"; expected none, sum or mean";
  if (n.operandType(0).getRank() < 2 ||
      n.operandType(1).getRank() != n.operandType(0).getRank() - 1)
    return n.emitError() << "expects scores [N, C, d...] and targets "
                            "[N, d...], got "
                         << n.operandType(0) << " and " << n.operandType(1);
  return success();
}
} // namespace

static LogicalResult importNegativeLogLikelihoodLoss(NodeImporter &n) {
  if (failed(n.requireOperands(2)) || failed(checkLossOperands(n)))
    return failure();
  LossBuilder b(n);
  Value loss =
      b.negativeLogLikelihood(n.operand(0), n.operand(1), n.operand(2));
  if (b.failed())
    return failure();
  return n.setResults(loss);
}

/// SoftmaxCrossEntropyLoss: the NLL of log_softmax over the class axis; the
/// optional second result is that log-probability.
static LogicalResult importSoftmaxCrossEntropyLoss(NodeImporter &n) {
  if (failed(n.requireOperands(2)) || failed(checkLossOperands(n)))
    return failure();
  LossBuilder b(n);
  Value logProb = b.op<LogSoftmaxOp>(n.operand(0), {n.namedI64("axis", 1)});
  Value loss = b.negativeLogLikelihood(logProb, n.operand(1), n.operand(2));
  if (b.failed())
    return failure();
  if (n.getNode().output_size() > 1)
    return n.setResults({loss, logProb});
  return n.setResults(loss);
}

void onnx_import::registerLossOps(OpRegistry &r) {
  r.add("NegativeLogLikelihoodLoss", {12, 13}, importNegativeLogLikelihoodLoss);
  r.add("SoftmaxCrossEntropyLoss", {12, 13}, importSoftmaxCrossEntropyLoss);
}
