//===- Tensors.cpp - ONNX TensorProto to MLIR elements attributes ---------===//

#include "NodeImporter.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

/// Tensors up to this many elements become uniqued dense attributes (readable
/// in the IR, foldable); larger ones become dense_resource blobs.
static constexpr int64_t kMaxDenseElements = 64;

Type onnx_import::convertElementType(MLIRContext *context, int32_t dataType) {
  Builder b(context);
  switch (dataType) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::DOUBLE:
    return b.getF64Type();
  case onnx::TensorProto::FLOAT16:
    return b.getF16Type();
  case onnx::TensorProto::BFLOAT16:
    return b.getBF16Type();
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  case onnx::TensorProto::INT8:
    return b.getI8Type();
  case onnx::TensorProto::INT16:
    return b.getI16Type();
  case onnx::TensorProto::INT32:
    return b.getI32Type();
  case onnx::TensorProto::INT64:
    return b.getI64Type();
  case onnx::TensorProto::UINT8:
    return IntegerType::get(context, 8, IntegerType::Unsigned);
  case onnx::TensorProto::UINT16:
    return IntegerType::get(context, 16, IntegerType::Unsigned);
  case onnx::TensorProto::UINT32:
    return IntegerType::get(context, 32, IntegerType::Unsigned);
  case onnx::TensorProto::UINT64:
    return IntegerType::get(context, 64, IntegerType::Unsigned);
  default:
    return {};
  }
}

/// Bytes one element of `type` takes in ONNX raw data (bool: one byte).
static size_t elementBytes(Type type) {
  return std::max(1u, type.getIntOrFloatBitWidth() / 8);
}

/// Appends the typed (non-raw) values of `tensor` to `bytes` in the raw
/// little-endian layout of `type`.
static void appendTypedData(const onnx::TensorProto &tensor, Type type,
                            std::string &bytes) {
  auto append = [&](auto value) {
    bytes.append(reinterpret_cast<const char *>(&value), sizeof(value));
  };
  size_t width = elementBytes(type);
  switch (tensor.data_type()) {
  case onnx::TensorProto::FLOAT:
    for (float v : tensor.float_data())
      append(v);
    return;
  case onnx::TensorProto::DOUBLE:
    for (double v : tensor.double_data())
      append(v);
    return;
  case onnx::TensorProto::INT64:
    for (int64_t v : tensor.int64_data())
      append(v);
    return;
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64:
    for (uint64_t v : tensor.uint64_data())
      bytes.append(reinterpret_cast<const char *>(&v), width);
    return;
  default:
    // int32_data carries every narrower type (and float16/bfloat16 bits).
    for (int32_t v : tensor.int32_data())
      bytes.append(reinterpret_cast<const char *>(&v), width);
    return;
  }
}

FailureOr<ElementsAttr> onnx_import::convertTensor(
    MLIRContext *context, const onnx::TensorProto &tensor,
    StringRef resourceName, function_ref<InFlightDiagnostic()> emitError,
    std::unique_ptr<std::string> externalData) {
  Type elementType = convertElementType(context, tensor.data_type());
  if (!elementType)
    return emitError() << "tensor '" << tensor.name()
                       << "' has an element type Kiln does not support ("
                       << onnx::TensorProto::DataType_Name(
                              static_cast<onnx::TensorProto::DataType>(
                                  tensor.data_type()))
                       << ")";
  SmallVector<int64_t> shape;
  int64_t count = 1;
  size_t width = elementBytes(elementType);
  bool tooLarge = false;
  for (int64_t d : tensor.dims()) {
    if (d < 0)
      return emitError() << "tensor '" << tensor.name()
                         << "' has a negative dim " << d;
    shape.push_back(d);
    tooLarge |= __builtin_mul_overflow(count, d, &count);
  }
  // The size in bytes must fit too (and stay addressable).
  size_t expected = 0;
  tooLarge |=
      count < 0 ||
      __builtin_mul_overflow(static_cast<size_t>(count), width, &expected) ||
      expected > static_cast<size_t>(INT64_MAX);
  if (tooLarge)
    return emitError() << "tensor '" << tensor.name()
                       << "' declares more elements than 64 bits count";
  auto type = RankedTensorType::get(shape, elementType);

  // The data: external file contents, raw bytes, or typed fields.
  std::unique_ptr<std::string> owned = std::move(externalData);
  const std::string *bytes = owned.get();
  if (!bytes && tensor.has_raw_data()) {
    bytes = &tensor.raw_data();
  } else if (!bytes) {
    // Reserve what the typed fields hold, not what the shape claims (a
    // corrupt file can declare billions of elements and carry none).
    owned = std::make_unique<std::string>();
    appendTypedData(tensor, elementType, *owned);
    bytes = owned.get();
  }
  if (bytes->size() != expected)
    return emitError() << "tensor '" << tensor.name() << "' holds "
                       << bytes->size() << " bytes of data but its shape "
                       << type << " needs " << expected;

  ArrayRef<char> data(bytes->data(), bytes->size());
  if (count <= kMaxDenseElements) {
    if (elementType.isInteger(1)) {
      SmallVector<bool> values;
      for (char c : data)
        values.push_back(c != 0);
      return cast<ElementsAttr>(DenseElementsAttr::get(type, values));
    }
    return cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(type, data));
  }

  // Large tensors live in a resource blob. Data we own (external or typed) is
  // handed over without a copy; protobuf-owned raw data is copied once.
  size_t align = width;
  AsmResourceBlob blob;
  if (owned && reinterpret_cast<uintptr_t>(owned->data()) % align == 0) {
    std::string *raw = owned.release();
    blob = UnmanagedAsmResourceBlob::allocateWithAlign(
        ArrayRef<char>(raw->data(), raw->size()), align,
        [raw](void *, size_t, size_t) { delete raw; });
  } else {
    blob =
        HeapAsmResourceBlob::allocateAndCopyWithAlign(data, align,
                                                      /*dataIsMutable=*/false);
  }
  std::string key;
  for (char c : resourceName)
    key.push_back(llvm::isAlnum(c) || c == '_' || c == '.' ? c : '_');
  if (key.empty() || llvm::isDigit(key.front()))
    key.insert(key.begin(), '_');
  return cast<ElementsAttr>(
      DenseResourceElementsAttr::get(type, key, std::move(blob)));
}
