//===- ModelABI.cpp - the entry point and signature of compiled models ----===//
//
// A compiled model exports the C ABI of include/kiln/Runtime/kiln_runtime.h,
// implemented once in the runtime library. What differs per model is
// generated here: a signature string the runtime parses (names, element
// types, shapes) and `kiln_model_entry`, which calls the model function's
// MLIR C interface with descriptors the runtime fills in.
//
//===----------------------------------------------------------------------===//

#include "kiln/Conversion/Passes.h"
#include "kiln/Dialect/Kiln/IR/KilnDialect.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/raw_ostream.h"

namespace kiln {
#define GEN_PASS_DEF_KILNRECORDSIGNATURE
#define GEN_PASS_DEF_KILNEMITMODELENTRY
#include "kiln/Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

/// The ONNX TensorProto data type code of a kiln element type, or 0.
static int onnxDataType(Type type) {
  if (type.isF32())
    return 1;
  if (type.isF64())
    return 11;
  if (type.isF16())
    return 10;
  if (type.isBF16())
    return 16;
  if (type.isInteger(1))
    return 9;
  auto intType = dyn_cast<IntegerType>(type);
  if (!intType)
    return 0;
  bool isUnsigned = intType.isUnsigned();
  switch (intType.getWidth()) {
  case 8:
    return isUnsigned ? 2 : 3;
  case 16:
    return isUnsigned ? 4 : 5;
  case 32:
    return isUnsigned ? 12 : 6;
  case 64:
    return isUnsigned ? 13 : 7;
  default:
    return 0;
  }
}

namespace {

struct KilnRecordSignaturePass
    : public kiln::impl::KilnRecordSignatureBase<KilnRecordSignaturePass> {
  using Base::Base;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(functionName);
    if (!func) {
      module.emitError() << "no function '" << functionName << "' to compile";
      return signalPassFailure();
    }
    Builder b(&getContext());
    auto entries = [&](TypeRange types, auto nameOf, auto partOf) {
      SmallVector<Attribute> list;
      for (auto [i, type] : llvm::enumerate(types)) {
        StringAttr name = nameOf(i);
        if (!name)
          name = b.getStringAttr("#" + std::to_string(i));
        SmallVector<NamedAttribute> fields = {
            b.getNamedAttr("name", name),
            b.getNamedAttr("type", TypeAttr::get(type))};
        if (StringAttr part = partOf(i))
          fields.push_back(b.getNamedAttr("part", part));
        list.push_back(b.getDictionaryAttr(fields));
      }
      return b.getArrayAttr(list);
    };
    for (Type type : llvm::concat<const Type>(func.getArgumentTypes(),
                                              func.getResultTypes())) {
      auto tensor = dyn_cast<RankedTensorType>(type);
      if (!tensor || onnxDataType(tensor.getElementType()) == 0) {
        func.emitError() << "cannot pass " << type
                         << " across the model's C ABI";
        return signalPassFailure();
      }
    }
    ArrayAttr inputs = entries(
        func.getArgumentTypes(),
        [&](unsigned i) {
          return func.getArgAttrOfType<StringAttr>(i, "kiln.name");
        },
        [&](unsigned i) {
          return func.getArgAttrOfType<StringAttr>(i, "kiln.part");
        });
    ArrayAttr outputs = entries(
        func.getResultTypes(),
        [&](unsigned i) {
          return func.getResultAttrOfType<StringAttr>(i, "kiln.name");
        },
        [&](unsigned i) {
          return func.getResultAttrOfType<StringAttr>(i, "kiln.part");
        });
    module->setAttr(
        "kiln.signature",
        b.getDictionaryAttr(
            {b.getNamedAttr("function", b.getStringAttr(functionName)),
             b.getNamedAttr("inputs", inputs),
             b.getNamedAttr("outputs", outputs)}));
    func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    // The caller's input buffers are read-only (kiln_runtime.h): without
    // this, one-shot bufferization writes an op whose destination is an
    // argument (ScatterND's data) into the caller's buffer. Key/value cache
    // buffers (kiln-bind-kv-cache) are the exception: the run writes them.
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      func.setArgAttr(
          i, "bufferization.writable",
          b.getBoolAttr(func.getArgAttr(i, "kiln.kv_cache") != nullptr));
  }
};

struct KilnEmitModelEntryPass
    : public kiln::impl::KilnEmitModelEntryBase<KilnEmitModelEntryPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto signature = module->getAttrOfType<DictionaryAttr>("kiln.signature");
    if (!signature) {
      module.emitError("no kiln.signature: run kiln-record-signature first");
      return signalPassFailure();
    }
    auto function = signature.getAs<StringAttr>("function");
    auto inputs = signature.getAs<ArrayAttr>("inputs");
    auto outputs = signature.getAs<ArrayAttr>("outputs");

    // The signature string: one line per entry,
    // "input|output PART DTYPE RANK DIM... NAMELENGTH NAME", PART being
    // kiln_part's number (the part of a sequence or optional value; 0 for
    // a tensor).
    std::string text;
    llvm::raw_string_ostream os(text);
    os << "kiln-signature 2\n";
    auto describe = [&](StringRef kind, ArrayAttr list) {
      for (Attribute entry : list) {
        auto dict = cast<DictionaryAttr>(entry);
        auto type =
            cast<RankedTensorType>(cast<TypeAttr>(dict.get("type")).getValue());
        StringRef name = dict.getAs<StringAttr>("name").getValue();
        int part = 0;
        if (auto partName = dict.getAs<StringAttr>("part"))
          part = llvm::StringSwitch<int>(partName.getValue())
                     .Case("sequence_elements", 1)
                     .Case("sequence_shapes", 2)
                     .Case("optional_present", 3)
                     .Default(0);
        os << kind << " " << part << " " << onnxDataType(type.getElementType())
           << " " << type.getRank();
        for (int64_t dim : type.getShape())
          os << " " << (ShapedType::isDynamic(dim) ? -1 : dim);
        os << " " << name.size() << " " << name << "\n";
      }
    };
    describe("input", inputs);
    describe("output", outputs);
    text.push_back('\0');

    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    Location loc = module.getLoc();
    MLIRContext *context = &getContext();
    auto i8 = IntegerType::get(context, 8);
    LLVM::GlobalOp::create(b, loc, LLVM::LLVMArrayType::get(i8, text.size()),
                           /*isConstant=*/true, LLVM::Linkage::External,
                           "kiln_model_signature", b.getStringAttr(text));
    // kiln-profile-kernels' kernel names, one per line, by id.
    if (auto kernels =
            module->getAttrOfType<ArrayAttr>("kiln.profile_kernels")) {
      std::string names;
      for (Attribute name : kernels)
        names += cast<StringAttr>(name).getValue().str() + "\n";
      names.push_back('\0');
      LLVM::GlobalOp::create(b, loc, LLVM::LLVMArrayType::get(i8, names.size()),
                             /*isConstant=*/true, LLVM::Linkage::External,
                             "kiln_model_profile_kernels",
                             b.getStringAttr(names));
      module->removeAttr("kiln.profile_kernels");
    }

    std::string cifaceName = ("_mlir_ciface_" + function.getValue()).str();
    auto ciface = module.lookupSymbol<LLVM::LLVMFuncOp>(cifaceName);
    if (!ciface) {
      module.emitError() << "no " << cifaceName
                         << ": the model function was not lowered with its C "
                            "interface";
      return signalPassFailure();
    }
    unsigned params = ciface.getNumArguments();
    if (params != inputs.size() + 1) {
      module.emitError() << cifaceName << " takes " << params
                         << " arguments; expected the results pointer and "
                         << inputs.size() << " inputs";
      return signalPassFailure();
    }
    // The model function and its C interface are reached only through the
    // entry point; kiln.* argument attributes have no meaning in LLVM IR.
    for (StringRef name : {function.getValue(), StringRef(cifaceName)}) {
      auto func = module.lookupSymbol<LLVM::LLVMFuncOp>(name);
      if (!func)
        continue;
      func.setLinkage(LLVM::Linkage::Internal);
      func.removeArgAttrsAttr();
      func.removeResAttrsAttr();
    }
    auto ptr = LLVM::LLVMPointerType::get(context);
    auto entryType =
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(context), {ptr});
    auto entry =
        LLVM::LLVMFuncOp::create(b, loc, "kiln_model_entry", entryType);
    Block *block = entry.addEntryBlock(b);
    b.setInsertionPointToStart(block);
    SmallVector<Value> args;
    for (unsigned i = 0; i < params; ++i) {
      Value slot =
          LLVM::GEPOp::create(b, loc, ptr, ptr, block->getArgument(0),
                              ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
      args.push_back(LLVM::LoadOp::create(b, loc, ptr, slot));
    }
    LLVM::CallOp::create(b, loc, ciface, args);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
  }
};

} // namespace
