//===- TensorFiles.cpp - .npy and TensorProto files -----------------------===//

#include "kiln/Runner/Runner.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "onnx/onnx_pb.h"

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

llvm::Expected<HostTensor> kiln::parseTensorProto(StringRef bytes,
                                                  StringRef path) {
  onnx::TensorProto proto;
  if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !proto.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return makeError("'" + path + "' is not an ONNX TensorProto");
  HostTensor tensor;
  // Only the codes kiln_dtype names become one (any other value in the enum
  // would be undefined behaviour).
  int32_t code = proto.data_type();
  bool known = false;
  for (kiln_dtype dtype :
       {KILN_FLOAT32, KILN_UINT8, KILN_INT8, KILN_UINT16, KILN_INT16,
        KILN_INT32, KILN_INT64, KILN_BOOL, KILN_FLOAT16, KILN_FLOAT64,
        KILN_UINT32, KILN_UINT64, KILN_BFLOAT16})
    if (code == static_cast<int32_t>(dtype)) {
      tensor.dtype = dtype;
      known = true;
    }
  size_t width = known ? dtypeSize(tensor.dtype) : 0;
  if (width == 0)
    return makeError(
        "'" + path +
        "' has an element type Kiln does not "
        "support (" +
        onnx::TensorProto::DataType_Name(
            static_cast<onnx::TensorProto::DataType>(proto.data_type())) +
        ")");
  for (int64_t d : proto.dims())
    tensor.shape.push_back(d);
  std::optional<size_t> size = byteSize(tensor.shape, width);
  if (!size)
    return makeError("'" + path + "' has shape " + shapeText(tensor.shape) +
                     ", negative or too large");
  size_t expected = *size;
  std::vector<char> &data = tensor.data;
  if (proto.has_raw_data()) {
    data.assign(proto.raw_data().begin(), proto.raw_data().end());
  } else {
    auto append = [&](const void *p, size_t n) {
      const char *c = static_cast<const char *>(p);
      data.insert(data.end(), c, c + n);
    };
    switch (proto.data_type()) {
    case onnx::TensorProto::FLOAT:
      for (float v : proto.float_data())
        append(&v, 4);
      break;
    case onnx::TensorProto::DOUBLE:
      for (double v : proto.double_data())
        append(&v, 8);
      break;
    case onnx::TensorProto::INT64:
      for (int64_t v : proto.int64_data())
        append(&v, 8);
      break;
    case onnx::TensorProto::UINT32:
    case onnx::TensorProto::UINT64:
      for (uint64_t v : proto.uint64_data())
        append(&v, width);
      break;
    default:
      for (int32_t v : proto.int32_data())
        append(&v, width);
      break;
    }
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
