//===- TensorFiles.cpp - .npy and TensorProto files -----------------------===//

#include "kiln/Runner/Runner.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <optional>

using namespace kiln;
using llvm::StringRef;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

const char *kiln::dtypeName(kiln_dtype dtype) {
  switch (dtype) {
  case KILN_FLOAT32:
    return "float32";
  case KILN_UINT8:
    return "uint8";
  case KILN_INT8:
    return "int8";
  case KILN_UINT16:
    return "uint16";
  case KILN_INT16:
    return "int16";
  case KILN_INT32:
    return "int32";
  case KILN_INT64:
    return "int64";
  case KILN_BOOL:
    return "bool";
  case KILN_FLOAT16:
    return "float16";
  case KILN_FLOAT64:
    return "float64";
  case KILN_UINT32:
    return "uint32";
  case KILN_UINT64:
    return "uint64";
  case KILN_BFLOAT16:
    return "bfloat16";
  }
  return "unknown";
}

size_t kiln::dtypeSize(kiln_dtype dtype) {
  switch (dtype) {
  case KILN_BOOL:
  case KILN_UINT8:
  case KILN_INT8:
    return 1;
  case KILN_UINT16:
  case KILN_INT16:
  case KILN_FLOAT16:
  case KILN_BFLOAT16:
    return 2;
  case KILN_FLOAT32:
  case KILN_INT32:
  case KILN_UINT32:
    return 4;
  case KILN_INT64:
  case KILN_UINT64:
  case KILN_FLOAT64:
    return 8;
  }
  return 0;
}

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// IEEE half to float.
static float halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exponent = (h >> 10) & 0x1f,
           mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {
      exponent = 127 - 15 + 1;
      while (!(mantissa & 0x400)) {
        mantissa <<= 1;
        --exponent;
      }
      bits = sign | (exponent << 23) | ((mantissa & 0x3ff) << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

double HostTensor::elementAsDouble(int64_t i) const {
  const char *p = data.data() + i * dtypeSize(dtype);
  auto read = [&](auto value) {
    std::memcpy(&value, p, sizeof value);
    return static_cast<double>(value);
  };
  switch (dtype) {
  case KILN_FLOAT32:
    return read(float());
  case KILN_FLOAT64:
    return read(double());
  case KILN_UINT8:
    return read(uint8_t());
  case KILN_INT8:
    return read(int8_t());
  case KILN_UINT16:
    return read(uint16_t());
  case KILN_INT16:
    return read(int16_t());
  case KILN_INT32:
    return read(int32_t());
  case KILN_INT64:
    return read(int64_t());
  case KILN_UINT32:
    return read(uint32_t());
  case KILN_UINT64:
    return read(uint64_t());
  case KILN_BOOL:
    return read(uint8_t()) != 0;
  case KILN_FLOAT16: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return halfToFloat(h);
  }
  case KILN_BFLOAT16: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
  }
  }
  return 0;
}

std::string HostTensor::describe() const {
  std::string s = dtypeName(dtype);
  s += "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

/// numpy's descr for each dtype (little-endian).
static const char *npyDescr(kiln_dtype dtype) {
  switch (dtype) {
  case KILN_FLOAT32:
    return "<f4";
  case KILN_FLOAT64:
    return "<f8";
  case KILN_FLOAT16:
    return "<f2";
  case KILN_UINT8:
    return "|u1";
  case KILN_INT8:
    return "|i1";
  case KILN_UINT16:
    return "<u2";
  case KILN_INT16:
    return "<i2";
  case KILN_INT32:
    return "<i4";
  case KILN_INT64:
    return "<i8";
  case KILN_UINT32:
    return "<u4";
  case KILN_UINT64:
    return "<u8";
  case KILN_BOOL:
    return "|b1";
  case KILN_BFLOAT16:
    return nullptr; // numpy has no bfloat16
  }
  return nullptr;
}

/// The bytes of a tensor of `shape` with `width`-byte elements, or nothing
/// when a dim is negative or the size does not fit in 63 bits.
static std::optional<size_t> byteSize(const std::vector<int64_t> &shape,
                                      size_t width) {
  uint64_t bytes = width;
  for (int64_t d : shape) {
    if (d < 0)
      return std::nullopt;
    if (d != 0 && bytes > (uint64_t(1) << 62) / static_cast<uint64_t>(d))
      return std::nullopt;
    bytes *= static_cast<uint64_t>(d);
  }
  return static_cast<size_t>(bytes);
}

static std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

llvm::Expected<HostTensor> kiln::readNpy(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return makeError("cannot read '" + path +
                     "': " + buffer.getError().message());
  return parseNpy((*buffer)->getBuffer(), path);
}

llvm::Expected<HostTensor> kiln::parseNpy(StringRef bytes, StringRef path) {
  auto bad = [&](const llvm::Twine &why) {
    return makeError("'" + path + "' is not a .npy file numpy wrote: " + why);
  };
  if (bytes.size() < 10 || !bytes.starts_with("\x93NUMPY"))
    return bad("no NUMPY magic");
  unsigned major = static_cast<unsigned char>(bytes[6]);
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = static_cast<unsigned char>(bytes[8]) |
                   (static_cast<unsigned char>(bytes[9]) << 8);
    headerStart = 10;
  } else {
    if (bytes.size() < 12)
      return bad("truncated header");
    headerLength = 0;
    for (int i = 0; i < 4; ++i)
      headerLength |=
          static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i]))
          << (8 * i);
    headerStart = 12;
  }
  if (headerStart + headerLength > bytes.size())
    return bad("truncated header");
  StringRef header = bytes.substr(headerStart, headerLength);
  auto field = [&](StringRef key) -> StringRef {
    size_t at = header.find("'" + key.str() + "'");
    if (at == StringRef::npos)
      return {};
    StringRef rest = header.drop_front(at + key.size() + 2).ltrim(" :");
    return rest;
  };
  StringRef descr = field("descr");
  if (!descr.consume_front("'"))
    return bad("no descr");
  descr = descr.take_until([](char c) { return c == '\''; });
  if (field("fortran_order").starts_with("True"))
    return bad(
        "Fortran order is not supported; save with np.ascontiguousarray");
  HostTensor tensor;
  bool found = false;
  for (kiln_dtype dtype : {KILN_FLOAT32, KILN_FLOAT64, KILN_FLOAT16, KILN_UINT8,
                           KILN_INT8, KILN_UINT16, KILN_INT16, KILN_INT32,
                           KILN_INT64, KILN_UINT32, KILN_UINT64, KILN_BOOL}) {
    const char *d = npyDescr(dtype);
    if (descr == d || (descr.size() == 3 && descr[0] == '=' &&
                       descr.drop_front() == StringRef(d).drop_front())) {
      tensor.dtype = dtype;
      found = true;
    }
  }
  if (!found)
    return bad("unsupported dtype '" + descr + "' (big-endian or object)");
  StringRef shape = field("shape");
  if (!shape.consume_front("("))
    return bad("no shape");
  shape = shape.take_until([](char c) { return c == ')'; });
  llvm::SmallVector<StringRef> dims;
  shape.split(dims, ',', -1, /*KeepEmpty=*/false);
  for (StringRef dim : dims) {
    int64_t value;
    if (dim.trim().getAsInteger(10, value) || value < 0)
      return bad("bad shape entry '" + dim + "'");
    tensor.shape.push_back(value);
  }
  std::optional<size_t> size = byteSize(tensor.shape, dtypeSize(tensor.dtype));
  if (!size)
    return bad("shape " + shapeText(tensor.shape) + " is too large");
  size_t expected = *size;
  StringRef payload = bytes.drop_front(headerStart + headerLength);
  if (payload.size() != expected)
    return bad("holds " + llvm::Twine(payload.size()) +
               " bytes of data, its "
               "shape needs " +
               llvm::Twine(expected));
  tensor.data.assign(payload.begin(), payload.end());
  return tensor;
}

llvm::Error kiln::writeNpy(StringRef path, const HostTensor &tensor) {
  // bfloat16 goes out as its uint16 bits (numpy has no bfloat16).
  const char *descr =
      tensor.dtype == KILN_BFLOAT16 ? "<u2" : npyDescr(tensor.dtype);
  if (!descr)
    return makeError("cannot write " + llvm::Twine(dtypeName(tensor.dtype)) +
                     " as .npy");
  std::string header = "{'descr': '" + std::string(descr) +
                       "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < tensor.shape.size(); ++i)
    header += std::to_string(tensor.shape[i]) + ", ";
  if (tensor.shape.size() > 1)
    header.resize(header.size() - 2);
  else if (tensor.shape.size() == 1)
    header.resize(header.size() - 1);
  header += "), }";
  // Pad so the data starts 64-byte aligned, ending with a newline.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return makeError("cannot write '" + path + "': " + ec.message());
  os << "\x93NUMPY" << '\x01' << '\x00';
  os << static_cast<char>(header.size() & 0xff)
     << static_cast<char>(header.size() >> 8);
  os << header;
  os.write(tensor.data.data(), tensor.data.size());
  os.close();
  if (os.has_error()) {
    os.clear_error();
    return makeError("cannot write '" + path + "'");
  }
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// TensorProto
//===----------------------------------------------------------------------===//

llvm::Expected<HostTensor> kiln::readTensorProto(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return makeError("cannot read '" + path +
                     "': " + buffer.getError().message());
  return parseTensorProto((*buffer)->getBuffer(), path);
}

namespace {
/// A reader of protobuf's wire format over a byte range: the fields of a
/// TensorProto, without the protobuf library (kiln-run stays free of it).
class WireReader {
public:
  explicit WireReader(StringRef bytes)
      : p(reinterpret_cast<const uint8_t *>(bytes.data())),
        end(p + bytes.size()) {}
  bool done() const { return p == end; }

  bool varint(uint64_t &value) {
    value = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (p == end)
        return false;
      uint8_t byte = *p++;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80))
        return true;
    }
    return false;
  }
  bool fixed(void *out, size_t width) {
    if (static_cast<size_t>(end - p) < width)
      return false;
    std::memcpy(out, p, width);
    p += width;
    return true;
  }
  bool bytes(StringRef &out) {
    uint64_t length;
    if (!varint(length) || length > static_cast<uint64_t>(end - p))
      return false;
    out = StringRef(reinterpret_cast<const char *>(p), length);
    p += length;
    return true;
  }
  /// Reads a repeated number field of wire type `type`: packed (type 2,
  /// a length and the numbers) or one number of `scalarType`, each through
  /// `one`.
  bool repeated(unsigned type, unsigned scalarType,
                llvm::function_ref<bool(WireReader &)> one) {
    if (type != 2)
      return type == scalarType && one(*this);
    StringRef packed;
    if (!bytes(packed))
      return false;
    WireReader inner(packed);
    while (!inner.done())
      if (!one(inner))
        return false;
    return true;
  }
  /// Skips a field of wire type `type` (groups are not supported).
  bool skip(unsigned type) {
    uint64_t ignored;
    StringRef unused;
    uint8_t scratch[8];
    switch (type) {
    case 0:
      return varint(ignored);
    case 1:
      return fixed(scratch, 8);
    case 2:
      return bytes(unused);
    case 5:
      return fixed(scratch, 4);
    default:
      return false;
    }
  }

private:
  const uint8_t *p, *end;
};

/// ONNX's name of TensorProto data type `code`, for messages.
std::string onnxTypeName(int64_t code) {
  static const char *const names[] = {
      "UNDEFINED",      "FLOAT",      "UINT8",
      "INT8",           "UINT16",     "INT16",
      "INT32",          "INT64",      "STRING",
      "BOOL",           "FLOAT16",    "DOUBLE",
      "UINT32",         "UINT64",     "COMPLEX64",
      "COMPLEX128",     "BFLOAT16",   "FLOAT8E4M3FN",
      "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ",
      "UINT4",          "INT4"};
  if (code >= 0 && code < static_cast<int64_t>(std::size(names)))
    return names[code];
  return "type " + std::to_string(code);
}
} // namespace

llvm::Expected<HostTensor> kiln::parseTensorProto(StringRef bytes,
                                                  StringRef path) {
  auto invalid = [&] {
    return makeError("'" + path + "' is not an ONNX TensorProto");
  };
  // TensorProto fields: 1 dims, 2 data_type, 4 float_data, 5 int32_data,
  // 7 int64_data, 9 raw_data, 10 double_data, 11 uint64_data. Repeated
  // numbers come packed or one per field; other fields are skipped.
  std::vector<int64_t> dims;
  int64_t code = 0;
  std::optional<StringRef> raw;
  TensorBytes typed;
  enum Number { Varint32, Varint64, Fixed32, Fixed64 };
  auto appendNumber = [&](WireReader &in, Number kind) {
    uint64_t v;
    if (kind == Fixed32 || kind == Fixed64) {
      size_t width = kind == Fixed32 ? 4 : 8;
      char value[8];
      if (!in.fixed(value, width))
        return false;
      typed.insert(typed.end(), value, value + width);
      return true;
    }
    if (!in.varint(v))
      return false;
    // int32 values travel sign-extended to 64 bits; each element is stored
    // at the tensor's width below.
    int64_t value = static_cast<int64_t>(v);
    const char *c = reinterpret_cast<const char *>(&value);
    typed.insert(typed.end(), c, c + 8);
    return true;
  };
  std::optional<Number> typedKind;
  WireReader in(bytes);
  while (!in.done()) {
    uint64_t key;
    if (!in.varint(key))
      return invalid();
    unsigned field = key >> 3, type = key & 7;
    std::optional<Number> kind;
    switch (field) {
    case 4:
      kind = Fixed32;
      break;
    case 10:
      kind = Fixed64;
      break;
    case 5:
      kind = Varint32;
      break;
    case 7:
    case 11:
      kind = Varint64;
      break;
    default:
      break;
    }
    if (field == 1) {
      auto readDim = [&](WireReader &r) {
        uint64_t d;
        if (!r.varint(d))
          return false;
        dims.push_back(static_cast<int64_t>(d));
        return true;
      };
      if (!in.repeated(type, 0, readDim))
        return invalid();
    } else if (field == 2 && type == 0) {
      uint64_t v;
      if (!in.varint(v))
        return invalid();
      code = static_cast<int64_t>(v);
    } else if (field == 9 && type == 2) {
      StringRef data;
      if (!in.bytes(data))
        return invalid();
      raw = data;
    } else if (kind) {
      if (typedKind && *typedKind != *kind)
        return invalid();
      typedKind = kind;
      unsigned scalarType = *kind == Fixed32 ? 5 : *kind == Fixed64 ? 1 : 0;
      if (!in.repeated(type, scalarType,
                       [&](WireReader &r) { return appendNumber(r, *kind); }))
        return invalid();
    } else if (!in.skip(type)) {
      return invalid();
    }
  }

  HostTensor tensor;
  // Only the codes kiln_dtype names become one.
  bool known = false;
  for (kiln_dtype dtype :
       {KILN_FLOAT32, KILN_UINT8, KILN_INT8, KILN_UINT16, KILN_INT16,
        KILN_INT32, KILN_INT64, KILN_BOOL, KILN_FLOAT16, KILN_FLOAT64,
        KILN_UINT32, KILN_UINT64, KILN_BFLOAT16})
    if (code == static_cast<int64_t>(dtype)) {
      tensor.dtype = dtype;
      known = true;
    }
  size_t width = known ? dtypeSize(tensor.dtype) : 0;
  if (width == 0)
    return makeError("'" + path +
                     "' has an element type Kiln does not support (" +
                     onnxTypeName(code) + ")");
  tensor.shape = dims;
  std::optional<size_t> size = byteSize(tensor.shape, width);
  if (!size)
    return makeError("'" + path + "' has shape " + shapeText(tensor.shape) +
                     ", negative or too large");
  size_t expected = *size;
  TensorBytes &data = tensor.data;
  if (raw) {
    data.assign(raw->begin(), raw->end());
  } else if (typedKind == Varint32 || typedKind == Varint64) {
    // Each varint was kept as 8 bytes: the element is its low `width`
    // bytes (little-endian).
    for (size_t i = 0; i + 8 <= typed.size(); i += 8)
      data.insert(data.end(), typed.begin() + i, typed.begin() + i + width);
  } else {
    data = std::move(typed);
  }
  if (data.size() != expected)
    return makeError("'" + path + "' holds " + llvm::Twine(data.size()) +
                     " bytes but its shape needs " + llvm::Twine(expected));
  return tensor;
}

llvm::Expected<HostTensor> kiln::readTensorFile(StringRef path) {
  if (llvm::sys::path::extension(path) == ".npy")
    return readNpy(path);
  return readTensorProto(path);
}

//===----------------------------------------------------------------------===//
// SequenceProto and OptionalProto
//===----------------------------------------------------------------------===//

namespace {
/// The element types of SequenceProto and OptionalProto (their DataType
/// enums share these values).
enum ValueElemType : int64_t {
  kUndefined = 0,
  kTensor = 1,
  kSparseTensor = 2,
  kSequence = 3,
  kMap = 4,
  kOptional = 5
};

/// What a SequenceProto or OptionalProto value field holds ("tensor", "map"),
/// for messages: fields 3-7 in both, in the order of their elem_type codes
/// (field = code + 2).
const char *valueFieldKind(unsigned field) {
  switch (field) {
  case 3:
    return "tensor";
  case 4:
    return "sparse tensor";
  case 5:
    return "sequence";
  case 6:
    return "map";
  case 7:
    return "optional";
  }
  return "value of an unknown kind";
}

/// ONNX's name of SequenceProto/OptionalProto element type `code`.
std::string elemTypeName(int64_t code) {
  static const char *const names[] = {"UNDEFINED", "TENSOR", "SPARSE_TENSOR",
                                      "SEQUENCE",  "MAP",    "OPTIONAL"};
  if (code >= 0 && code < static_cast<int64_t>(std::size(names)))
    return names[code];
  return std::to_string(code);
}

/// The value field of elem_type `code` (0 for UNDEFINED or an unknown code).
unsigned fieldOfElemType(int64_t code) {
  return code >= kTensor && code <= kOptional ? static_cast<unsigned>(code + 2)
                                              : 0;
}

/// The fields SequenceProto and OptionalProto share the layout of: 1 name,
/// 2 elem_type, then one field per kind of value (3 tensor, 4 sparse
/// tensor, 5 sequence, 6 map, 7 optional), repeated in a SequenceProto.
struct ValueFields {
  std::optional<int64_t> elemType;
  /// The serialized values of each field 3-7, in order.
  std::vector<std::pair<unsigned, StringRef>> values;
};

/// Reads the fields of a SequenceProto or OptionalProto; false when `bytes`
/// is no such message: a truncated field, a field of the wrong wire type, or
/// one the messages do not define. (Protobuf would skip unknown fields; here
/// they tell a TensorProto, whose dims and data fields are such fields, from
/// these messages.)
bool readValueFields(StringRef bytes, ValueFields &fields) {
  WireReader in(bytes);
  while (!in.done()) {
    uint64_t key;
    if (!in.varint(key))
      return false;
    unsigned field = key >> 3, type = key & 7;
    if (field == 1) {
      if (type != 2 || !in.skip(type))
        return false;
    } else if (field == 2) {
      uint64_t v;
      if (type != 0 || !in.varint(v))
        return false;
      fields.elemType = static_cast<int64_t>(v);
    } else if (field >= 3 && field <= 7) {
      StringRef value;
      if (type != 2 || !in.bytes(value))
        return false;
      fields.values.push_back({field, value});
    } else {
      return false;
    }
  }
  return true;
}

/// Whether `bytes` reads as an OptionalProto rather than a TensorProto: only
/// the fields an OptionalProto defines, and its elem_type set (ONNX always
/// sets it). A TensorProto as ONNX writes it has unpacked dims (field 1,
/// wire type 0), a name (8) or data fields (4-13).
bool looksLikeOptionalProto(StringRef bytes) {
  ValueFields fields;
  return readValueFields(bytes, fields) && fields.elemType.has_value();
}
} // namespace

llvm::Expected<HostValue> kiln::parseSequenceProto(StringRef bytes,
                                                   StringRef path) {
  ValueFields fields;
  if (!readValueFields(bytes, fields))
    return makeError("'" + path + "' is not an ONNX SequenceProto");
  auto unsupported = [&](unsigned field) {
    return makeError("'" + path + "' is a sequence of " +
                     valueFieldKind(field) +
                     "s; Kiln supports sequences of tensors");
  };
  int64_t elemType = fields.elemType.value_or(kUndefined);
  if (elemType != kUndefined && elemType != kTensor) {
    if (unsigned field = fieldOfElemType(elemType))
      return unsupported(field);
    return makeError("'" + path + "' has element type " +
                     elemTypeName(elemType) +
                     "; Kiln supports sequences of tensors");
  }
  std::vector<HostTensor> elements;
  for (auto [field, value] : fields.values) {
    if (field != 3)
      return unsupported(field);
    // The element's index names it in the reader's messages: 's.pb[1]'.
    std::string element =
        (path + "[" + llvm::Twine(elements.size()) + "]").str();
    llvm::Expected<HostTensor> tensor = parseTensorProto(value, element);
    if (!tensor)
      return tensor.takeError();
    elements.push_back(std::move(*tensor));
  }
  return HostValue::ofSequence(std::move(elements));
}

llvm::Expected<HostValue> kiln::parseOptionalProto(StringRef bytes,
                                                   StringRef path) {
  ValueFields fields;
  if (!readValueFields(bytes, fields) || fields.values.size() > 1)
    return makeError("'" + path + "' is not an ONNX OptionalProto");
  int64_t elemType = fields.elemType.value_or(kUndefined);
  // What it holds: the value's field, else (an empty optional) elem_type;
  // the two must agree when both are there.
  unsigned declared = fieldOfElemType(elemType);
  unsigned field = fields.values.empty() ? declared : fields.values[0].first;
  // ONNX's numpy_helper.from_optional(None) leaves the type UNDEFINED: an
  // empty optional of whatever the reader expects (readValueFile: its
  // slot's), a tensor's here.
  if (field == 0 && elemType == kUndefined)
    return HostValue::emptyOptional(ValueKind::Tensor);
  if (field == 0)
    return makeError("'" + path +
                     "' is an ONNX OptionalProto of element type " +
                     elemTypeName(elemType));
  if (declared != 0 && declared != field)
    return makeError("'" + path + "' declares element type " +
                     elemTypeName(elemType) + " but holds its value in the " +
                     valueFieldKind(field) + " field");
  if (field != 3 && field != 5)
    return makeError("'" + path + "' is an optional " + valueFieldKind(field) +
                     "; Kiln supports optionals of tensors and of sequences "
                     "of tensors");
  ValueKind inner = field == 3 ? ValueKind::Tensor : ValueKind::Sequence;
  if (fields.values.empty())
    return HostValue::emptyOptional(inner);
  StringRef value = fields.values[0].second;
  if (inner == ValueKind::Tensor) {
    llvm::Expected<HostTensor> tensor = parseTensorProto(value, path);
    if (!tensor)
      return tensor.takeError();
    return HostValue::presentOptional(HostValue::ofTensor(std::move(*tensor)));
  }
  llvm::Expected<HostValue> sequence = parseSequenceProto(value, path);
  if (!sequence)
    return sequence.takeError();
  return HostValue::presentOptional(std::move(*sequence));
}

/// Reads the sequence a directory holds as 0.npy, 1.npy, ... (what
/// writeOutputs writes). Other files are ignored; a gap in the numbers is
/// an error.
static llvm::Expected<HostValue> readSequenceDirectory(StringRef dir) {
  std::vector<std::pair<uint64_t, std::string>> files;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    StringRef name = llvm::sys::path::filename(it->path());
    uint64_t index;
    // Only the names writeOutputs gives: "7.npy", not "07.npy" or "+7.npy".
    if (name.consume_back(".npy") && !name.getAsInteger(10, index) &&
        name == std::to_string(index))
      files.push_back({index, it->path()});
  }
  if (ec)
    return makeError("cannot list '" + dir + "': " + ec.message());
  llvm::sort(files);
  std::vector<HostTensor> elements;
  for (auto &[index, file] : files) {
    if (index != elements.size())
      return makeError("'" + dir + "' holds " + llvm::Twine(index) +
                       ".npy but no " + llvm::Twine(elements.size()) +
                       ".npy (a sequence's elements are 0.npy, 1.npy, ...)");
    llvm::Expected<HostTensor> element = readNpy(file);
    if (!element)
      return element.takeError();
    elements.push_back(std::move(*element));
  }
  return HostValue::ofSequence(std::move(elements));
}

/// The bytes of the file at `path`, as parse* reads them.
static llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readBytes(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return makeError("cannot read '" + path +
                     "': " + buffer.getError().message());
  return std::move(*buffer);
}

llvm::Expected<HostValue> kiln::readValueFile(StringRef path,
                                              const ValueSlot &slot) {
  bool npy = llvm::sys::path::extension(path) == ".npy";
  bool directory = llvm::sys::fs::is_directory(path);
  // What the file holds when it is not the slot's own kind of message: a
  // tensor, or a directory's sequence.
  auto plainValue = [&]() -> llvm::Expected<HostValue> {
    if (directory)
      return readSequenceDirectory(path);
    llvm::Expected<HostTensor> tensor = readTensorFile(path);
    if (!tensor)
      return tensor.takeError();
    return HostValue::ofTensor(std::move(*tensor));
  };
  auto wrongKind = [&](const llvm::Twine &holds) {
    return makeError(
        "'" + path + "' holds " + holds + ", but '" + slot.name + "' is " +
        (slot.kind == ValueKind::Optional
             ? "an optional " + std::string(valueKindName(slot.inner))
             : "a " + std::string(valueKindName(slot.kind))));
  };
  switch (slot.kind) {
  case ValueKind::Tensor: {
    llvm::Expected<HostTensor> tensor = readTensorFile(path);
    if (!tensor)
      return tensor.takeError();
    return HostValue::ofTensor(std::move(*tensor));
  }
  case ValueKind::Sequence: {
    if (directory)
      return readSequenceDirectory(path);
    if (npy)
      return makeError("'" + path + "' holds a tensor, but '" + slot.name +
                       "' is a sequence: give a SequenceProto .pb or a "
                       "directory of 0.npy, 1.npy, ...");
    llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> bytes = readBytes(path);
    if (!bytes)
      return bytes.takeError();
    return parseSequenceProto((*bytes)->getBuffer(), path);
  }
  case ValueKind::Optional: {
    bool sequence = slot.inner == ValueKind::Sequence;
    // A .npy, a TensorProto or a directory is a present optional's value.
    if (npy || directory) {
      if (sequence != directory)
        return wrongKind(directory ? "a sequence" : "a tensor");
      llvm::Expected<HostValue> value = plainValue();
      if (!value)
        return value.takeError();
      return HostValue::presentOptional(std::move(*value));
    }
    llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> bytes = readBytes(path);
    if (!bytes)
      return bytes.takeError();
    StringRef data = (*bytes)->getBuffer();
    if (!sequence && !looksLikeOptionalProto(data)) {
      llvm::Expected<HostTensor> tensor = parseTensorProto(data, path);
      if (!tensor)
        return tensor.takeError();
      return HostValue::presentOptional(
          HostValue::ofTensor(std::move(*tensor)));
    }
    llvm::Expected<HostValue> value = parseOptionalProto(data, path);
    if (!value)
      return value.takeError();
    // An empty optional holds nothing of either kind.
    if (!value->present)
      value->inner = slot.inner;
    if (value->inner != slot.inner)
      return wrongKind("an optional " +
                       llvm::Twine(valueKindName(value->inner)));
    return value;
  }
  }
  return makeError("'" + slot.name + "' is a value of an unknown kind");
}

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

Comparison kiln::compareTensors(const HostTensor &actual,
                                const HostTensor &expected, double rtol,
                                double atol) {
  Comparison result;
  if (actual.dtype != expected.dtype || actual.shape != expected.shape) {
    result.matches = false;
    result.message =
        "got " + actual.describe() + ", expected " + expected.describe();
    return result;
  }
  double worstExcess = -1;
  int64_t worst = -1;
  for (int64_t i = 0, e = actual.numElements(); i < e; ++i) {
    double a = actual.elementAsDouble(i), b = expected.elementAsDouble(i);
    bool ok;
    double error = std::fabs(a - b);
    if (std::isnan(a) || std::isnan(b))
      ok = std::isnan(a) && std::isnan(b);
    else if (std::isinf(a) || std::isinf(b))
      ok = a == b;
    else
      ok = error <= atol + rtol * std::fabs(b);
    if (!std::isnan(error) && !std::isinf(error))
      result.maxAbsError = std::max(result.maxAbsError, error);
    if (ok)
      continue;
    ++result.mismatches;
    double excess =
        std::isfinite(error) ? error - (atol + rtol * std::fabs(b)) : INFINITY;
    if (excess > worstExcess || worst < 0) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (result.mismatches == 0)
    return result;
  result.matches = false;
  // The worst element's multi-dimensional index.
  std::string index;
  int64_t rest = worst;
  for (size_t d = actual.shape.size(); d-- > 0;) {
    index = std::to_string(rest % actual.shape[d]) +
            (index.empty() ? "" : ", ") + index;
    rest /= actual.shape[d];
  }
  llvm::raw_string_ostream os(result.message);
  os << result.mismatches << " of " << actual.numElements()
     << " elements differ; worst at [" << index << "]: got "
     << actual.elementAsDouble(worst) << ", expected "
     << expected.elementAsDouble(worst) << " (abs error "
     << std::fabs(actual.elementAsDouble(worst) -
                  expected.elementAsDouble(worst))
     << ", rtol " << rtol << ", atol " << atol << ")";
  return result;
}
