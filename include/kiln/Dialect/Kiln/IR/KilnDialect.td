//===- KilnDialect.td - The kiln dialect --------------------*- tablegen -*-===//
//
// The kiln dialect: ONNX operator semantics on ranked tensors.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_IR_KILNDIALECT_TD
#define KILN_DIALECT_KILN_IR_KILNDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kiln_Dialect : Dialect {
  let name = "kiln";
  let cppNamespace = "::kiln";
  let summary = "ONNX operator semantics on ranked tensors";
  let description = [{
    The kiln dialect is the graph-level IR of the Kiln compiler. Each op has the
    semantics of the ONNX operator of the same name at the newest opset Kiln
    supports; the importer maps older opsets onto it (attributes that later
    became inputs are normalized into one form). Operands and results are ranked
    tensors whose dims may be static or dynamic; every op infers its result type
    from its operands and attributes, so a model's every value has a shape.
  }];
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// Element types of ONNX tensors Kiln handles. Signed ONNX integers map to
/// signless MLIR integers, unsigned ones to unsigned integers, bool to i1.
def Kiln_ElementType : AnyTypeOf<[F16, BF16, F32, F64, I1, I8, I16, I32, I64,
                                  UI8, UI16, UI32, UI64]>;
def Kiln_FloatElementType : AnyTypeOf<[F16, BF16, F32, F64]>;

def Kiln_Tensor : RankedTensorOf<[Kiln_ElementType]>;
def Kiln_FloatTensor : RankedTensorOf<[Kiln_FloatElementType]>;
def Kiln_BoolTensor : RankedTensorOf<[I1]>;
def Kiln_IntTensor : RankedTensorOf<[I8, I16, I32, I64, UI8, UI16, UI32, UI64]>;
/// Shape-like operands (shapes, pads, starts, indices) are 1-D integer tensors.
def Kiln_IndexTensor : RankedTensorOf<[I32, I64]>;

/// An i64 attribute read as a signed value (axes may be negative; upstream's
/// I64Attr reads it as unsigned).
def Kiln_I64Attr : TypedSignlessIntegerAttrBase<I64, "int64_t",
    "64-bit signless integer attribute read as signed"> {
  let convertFromStorage = "$_self.getValue().getSExtValue()";
}

/// A string attribute restricted to `cases` (ONNX's string-valued modes).
class Kiln_StrAttrOf<list<string> cases> : ConfinedAttr<StrAttr, [
    AttrConstraint<Or<!foreach(c, cases,
        CPred<"::llvm::cast<::mlir::StringAttr>($_self).getValue() == \"" # c # "\"">)>,
      "one of " # !interleave(cases, ", ")>]>;

//===----------------------------------------------------------------------===//
// Base classes
//===----------------------------------------------------------------------===//

/// Result-type inference shared by every kiln op, through an adaptor.
/// Inferred and declared result types are compatible when they have the same
/// element type and rank and every dim agrees or one side is dynamic: a pass
/// may refine a result before its producers are refined, and the other way
/// round. `body`, when not empty, is the inference itself (for op classes
/// whose members all infer alike); otherwise the op defines
/// `inferReturnTypes(context, location, adaptor, types)` in C++.
class Kiln_InferType<code body> : TraitList<[
    DeclareOpInterfaceMethods<InferTypeOpInterface>,
    NativeOpTrait<"InferTypeOpAdaptor", [], [{
        static bool isCompatibleReturnTypes(::mlir::TypeRange l,
                                            ::mlir::TypeRange r) {
          return ::kiln::areCompatibleResultTypes(l, r);
        }
        static ::llvm::LogicalResult
        inferReturnTypes(::mlir::MLIRContext *context,
                         std::optional<::mlir::Location> location,
                         Adaptor adaptor,
                         ::llvm::SmallVectorImpl<::mlir::Type> &inferredReturnTypes);
      }], [{
        ::llvm::LogicalResult
        $cppClass::inferReturnTypes(::mlir::MLIRContext *context,
                          std::optional<::mlir::Location> location,
                          ::mlir::ValueRange operands, ::mlir::DictionaryAttr attributes,
                          ::mlir::OpaqueProperties properties, ::mlir::RegionRange regions,
                          ::llvm::SmallVectorImpl<::mlir::Type> &inferredReturnTypes) {
          $cppClass::Adaptor adaptor(operands, attributes, properties, regions);
          return $cppClass::inferReturnTypes(context, location, adaptor,
                                             inferredReturnTypes);
        }
      }] # !if(!empty(body), "", [{
        ::llvm::LogicalResult
        $cppClass::inferReturnTypes(::mlir::MLIRContext *context,
                          std::optional<::mlir::Location> location,
                          Adaptor adaptor,
                          ::llvm::SmallVectorImpl<::mlir::Type> &inferredReturnTypes) {
      }] # body # "\n}\n")>
  ]>;

/// Base class of every kiln op: side-effect free, with inferred result types.
class Kiln_Op<string mnemonic, list<Trait> traits = [], code inferBody = [{}]>
    : Op<Kiln_Dialect, mnemonic,
         !listconcat(traits, [NoMemoryEffect, Kiln_InferType<inferBody>])>;

#endif // KILN_DIALECT_KILN_IR_KILNDIALECT_TD
