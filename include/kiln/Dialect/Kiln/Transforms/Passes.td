//===- Passes.td - kiln dialect passes ----------------------*- tablegen -*-===//

#ifndef KILN_DIALECT_KILN_TRANSFORMS_PASSES_TD
#define KILN_DIALECT_KILN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

def KilnInferShapes : Pass<"kiln-infer-shapes", "mlir::func::FuncOp"> {
  let summary = "Refine result types from operand types and constants";
  let description = [{
    Re-runs every kiln op's result-type inference in program order and keeps
    the more precise of the inferred and the declared type, so that a dim fixed
    at the inputs (`kiln-compile --input-shape`) or a shape operand that became
    constant after folding reaches every value downstream. The function's
    result types are updated to match its return.
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
}

#endif // KILN_DIALECT_KILN_TRANSFORMS_PASSES_TD
