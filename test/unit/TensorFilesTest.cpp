//===- TensorFilesTest.cpp - Kiln's own TensorProto reader ----------------===//
//
// kiln-run reads TensorProto files with a wire-format reader of its own (it
// does not link protobuf). These tests serialize protos with the protobuf
// library in every encoding ONNX tools use and check that the reader gets
// the same tensor.
//
//===----------------------------------------------------------------------===//

#include "kiln/Runner/Runner.h"

#include "onnx/onnx_pb.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace kiln;

namespace {

HostTensor parse(const onnx::TensorProto &proto) {
  std::string bytes;
  EXPECT_TRUE(proto.SerializeToString(&bytes));
  llvm::Expected<HostTensor> tensor = parseTensorProto(bytes, "test.pb");
  if (!tensor) {
    ADD_FAILURE() << llvm::toString(tensor.takeError());
    return HostTensor();
  }
  return std::move(*tensor);
}

template <typename T> std::vector<T> values(const HostTensor &tensor) {
  std::vector<T> out(tensor.data.size() / sizeof(T));
  std::memcpy(out.data(), tensor.data.data(), out.size() * sizeof(T));
  return out;
}

TEST(TensorProtoReader, TypedFieldsOfEveryWidth) {
  onnx::TensorProto floats;
  floats.set_data_type(onnx::TensorProto::FLOAT);
  floats.add_dims(2);
  floats.add_dims(2);
  for (float v : {1.5f, -2.0f, 0.0f, 3.25f})
    floats.add_float_data(v);
  HostTensor f = parse(floats);
  EXPECT_EQ(f.dtype, KILN_FLOAT32);
  EXPECT_EQ(f.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(values<float>(f), (std::vector<float>{1.5f, -2.0f, 0.0f, 3.25f}));

  // int8 and bool travel in int32_data, negative values sign-extended.
  onnx::TensorProto bytes;
  bytes.set_data_type(onnx::TensorProto::INT8);
  bytes.add_dims(3);
  for (int v : {-128, 5, 127})
    bytes.add_int32_data(v);
  EXPECT_EQ(values<int8_t>(parse(bytes)), (std::vector<int8_t>{-128, 5, 127}));

  onnx::TensorProto halves;
  halves.set_data_type(onnx::TensorProto::FLOAT16);
  halves.add_dims(2);
  halves.add_int32_data(0x3c00);
  halves.add_int32_data(0xc000);
  EXPECT_EQ(values<uint16_t>(parse(halves)),
            (std::vector<uint16_t>{0x3c00, 0xc000}));

  onnx::TensorProto longs;
  longs.set_data_type(onnx::TensorProto::INT64);
  longs.add_dims(2);
  longs.add_int64_data(-(int64_t(1) << 40));
  longs.add_int64_data(7);
  EXPECT_EQ(values<int64_t>(parse(longs)),
            (std::vector<int64_t>{-(int64_t(1) << 40), 7}));

  onnx::TensorProto unsigned32;
  unsigned32.set_data_type(onnx::TensorProto::UINT32);
  unsigned32.add_dims(1);
  unsigned32.add_uint64_data(4000000000u);
  EXPECT_EQ(values<uint32_t>(parse(unsigned32)),
            (std::vector<uint32_t>{4000000000u}));

  onnx::TensorProto doubles;
  doubles.set_data_type(onnx::TensorProto::DOUBLE);
  doubles.add_dims(1);
  doubles.add_double_data(-0.125);
  EXPECT_EQ(values<double>(parse(doubles)), (std::vector<double>{-0.125}));
}

TEST(TensorProtoReader, RawDataScalarsAndSkippedFields) {
  onnx::TensorProto proto;
  proto.set_name("input_0");
  proto.set_doc_string("skipped");
  proto.set_data_type(onnx::TensorProto::INT32);
  proto.add_dims(3);
  int32_t data[3] = {-1, 0, 1 << 30};
  proto.set_raw_data(data, sizeof data);
  HostTensor tensor = parse(proto);
  EXPECT_EQ(tensor.dtype, KILN_INT32);
  EXPECT_EQ(values<int32_t>(tensor), (std::vector<int32_t>{-1, 0, 1 << 30}));

  onnx::TensorProto scalar;
  scalar.set_data_type(onnx::TensorProto::FLOAT);
  scalar.add_float_data(42.0f);
  HostTensor s = parse(scalar);
  EXPECT_TRUE(s.shape.empty());
  EXPECT_EQ(values<float>(s), (std::vector<float>{42.0f}));
}

TEST(TensorProtoReader, Errors) {
  onnx::TensorProto strings;
  strings.set_data_type(onnx::TensorProto::STRING);
  strings.add_dims(1);
  strings.add_string_data("x");
  std::string bytes;
  ASSERT_TRUE(strings.SerializeToString(&bytes));
  llvm::Expected<HostTensor> result = parseTensorProto(bytes, "s.pb");
  ASSERT_FALSE(result);
  EXPECT_EQ(llvm::toString(result.takeError()),
            "'s.pb' has an element type Kiln does not support (STRING)");

  onnx::TensorProto short_data;
  short_data.set_data_type(onnx::TensorProto::FLOAT);
  short_data.add_dims(4);
  short_data.add_float_data(1.0f);
  ASSERT_TRUE(short_data.SerializeToString(&bytes));
  result = parseTensorProto(bytes, "short.pb");
  ASSERT_FALSE(result);
  EXPECT_EQ(llvm::toString(result.takeError()),
            "'short.pb' holds 4 bytes but its shape needs 16");

  // A length that runs past the end, and a truncated varint.
  for (std::string broken :
       {std::string("\x4a\x10\x01\x02", 4), std::string("\x08\xff", 2)}) {
    result = parseTensorProto(broken, "broken.pb");
    ASSERT_FALSE(result);
    EXPECT_EQ(llvm::toString(result.takeError()),
              "'broken.pb' is not an ONNX TensorProto");
  }
}

} // namespace

// A model reads its inputs in place, and its kernels' vector loads are
// slower when a row starts inside a cache line: every tensor the runner
// reads or builds starts on a 64-byte boundary, however many bytes come
// before it in the file or were allocated just before.
TEST(TensorStorage, CacheLineAligned) {
  onnx::TensorProto raw;
  raw.set_data_type(onnx::TensorProto::FLOAT);
  raw.add_dims(5);
  raw.set_raw_data(std::string(20, '\0'));
  onnx::TensorProto typed;
  typed.set_data_type(onnx::TensorProto::INT64);
  typed.add_dims(3);
  for (int v : {1, 2, 3})
    typed.add_int64_data(v);
  std::vector<HostTensor> kept;
  for (int round = 0; round < 8; ++round) {
    std::vector<char> spacer(1 + 24 * round); // shifts the heap
    for (const onnx::TensorProto *proto : {&raw, &typed}) {
      kept.push_back(parse(*proto));
      EXPECT_EQ(reinterpret_cast<uintptr_t>(kept.back().data.data()) % 64, 0u)
          << "round " << round;
    }
    HostTensor grown;
    grown.data.resize(3 + round);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(grown.data.data()) % 64, 0u);
    kept.push_back(std::move(grown));
  }
}
