//===- ValuesTest.cpp - sequences and optionals in the runner -------------===//
//
// kiln-run speaks ONNX values while a compiled model's C ABI carries
// tensors: these tests check the SequenceProto/OptionalProto readers (on
// messages encoded by hand here, as kiln-run reads them without protobuf),
// the grouping of ABI entries into values, packing and unpacking a value's
// entries, and comparing and describing values.
//
//===----------------------------------------------------------------------===//

#include "kiln/Runner/Runner.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace kiln;

namespace {

//===----------------------------------------------------------------------===//
// A tiny protobuf encoder
//===----------------------------------------------------------------------===//

/// A protobuf message under construction, its fields appended in wire
/// format: varint tags and values, length-delimited bytes and messages.
class Proto {
public:
  Proto &varint(unsigned field, uint64_t value) {
    key(field, 0);
    putVarint(value);
    return *this;
  }
  Proto &bytes(unsigned field, llvm::StringRef data) {
    key(field, 2);
    putVarint(data.size());
    text.append(data.begin(), data.end());
    return *this;
  }
  Proto &message(unsigned field, const Proto &inner) {
    return bytes(field, inner.str());
  }
  const std::string &str() const { return text; }

private:
  void key(unsigned field, unsigned wireType) {
    putVarint(static_cast<uint64_t>(field) << 3 | wireType);
  }
  void putVarint(uint64_t value) {
    do {
      uint8_t byte = value & 0x7f;
      value >>= 7;
      text.push_back(static_cast<char>(byte | (value ? 0x80 : 0)));
    } while (value);
  }
  std::string text;
};

/// A float TensorProto as ONNX writes it: unpacked dims (1), data_type (2),
/// raw_data (9).
Proto floatTensor(std::vector<int64_t> dims, std::vector<float> values) {
  Proto tensor;
  for (int64_t d : dims)
    tensor.varint(1, static_cast<uint64_t>(d));
  tensor.varint(2, 1); // FLOAT
  tensor.bytes(9, llvm::StringRef(reinterpret_cast<const char *>(values.data()),
                                  values.size() * sizeof(float)));
  return tensor;
}

/// SequenceProto/OptionalProto element types.
constexpr uint64_t kTensor = 1, kSequence = 3, kMap = 4;

template <typename T> std::vector<T> values(const HostTensor &tensor) {
  std::vector<T> out(tensor.data.size() / sizeof(T));
  std::memcpy(out.data(), tensor.data.data(), out.size() * sizeof(T));
  return out;
}

/// A tensor of `dtype` and `shape` holding `data`.
template <typename T>
HostTensor tensor(kiln_dtype dtype, std::vector<int64_t> shape,
                  std::vector<T> data) {
  HostTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  const char *bytes = reinterpret_cast<const char *>(data.data());
  t.data.assign(bytes, bytes + data.size() * sizeof(T));
  return t;
}

HostTensor floats(std::vector<int64_t> shape, std::vector<float> data) {
  return tensor(KILN_FLOAT32, std::move(shape), std::move(data));
}

/// The value, or a test failure and an empty value.
HostValue valueOf(llvm::Expected<HostValue> value) {
  if (!value) {
    ADD_FAILURE() << llvm::toString(value.takeError());
    return HostValue();
  }
  return std::move(*value);
}

/// Whether `error` is success; a test failure with its message otherwise.
bool succeeded(llvm::Error error) {
  if (!error)
    return true;
  ADD_FAILURE() << llvm::toString(std::move(error));
  return false;
}

/// The error's message, or a test failure when there is none.
template <typename T> std::string errorOf(llvm::Expected<T> result) {
  if (result) {
    ADD_FAILURE() << "expected an error";
    return "";
  }
  return llvm::toString(result.takeError());
}

//===----------------------------------------------------------------------===//
// SequenceProto and OptionalProto
//===----------------------------------------------------------------------===//

TEST(SequenceProtoReader, TwoTensorsOfDifferentShapes) {
  Proto sequence;
  sequence.bytes(1, "seq").varint(2, kTensor);
  sequence.message(3, floatTensor({2, 2}, {1, 2, 3, 4}));
  sequence.message(3, floatTensor({3}, {5, 6, 7}));
  HostValue value = valueOf(parseSequenceProto(sequence.str(), "s.pb"));
  EXPECT_EQ(value.kind, ValueKind::Sequence);
  ASSERT_EQ(value.elements.size(), 2u);
  EXPECT_EQ(value.elements[0].dtype, KILN_FLOAT32);
  EXPECT_EQ(value.elements[0].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(values<float>(value.elements[0]), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(value.elements[1].shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(values<float>(value.elements[1]), (std::vector<float>{5, 6, 7}));
  EXPECT_EQ(value.describe(), "sequence of 2 float32 tensors [2, 2], [3]");
}

TEST(SequenceProtoReader, Empty) {
  Proto sequence;
  sequence.varint(2, kTensor);
  HostValue value = valueOf(parseSequenceProto(sequence.str(), "s.pb"));
  EXPECT_EQ(value.kind, ValueKind::Sequence);
  EXPECT_TRUE(value.elements.empty());
  // No field at all is an empty sequence too.
  value = valueOf(parseSequenceProto("", "s.pb"));
  EXPECT_TRUE(value.elements.empty());
}

TEST(SequenceProtoReader, Errors) {
  Proto sequence;
  sequence.varint(2, kTensor);
  sequence.message(3, floatTensor({2}, {1, 2}));
  sequence.message(3, floatTensor({3}, {5, 6, 7}));
  // Cut short inside the second element: its length runs past the end.
  std::string truncated = sequence.str().substr(0, sequence.str().size() - 3);
  EXPECT_EQ(errorOf(parseSequenceProto(truncated, "t.pb")),
            "'t.pb' is not an ONNX SequenceProto");

  // An element that is a well-delimited but broken TensorProto is named.
  Proto badElement;
  badElement.message(3, floatTensor({1}, {1}));
  badElement.message(3, floatTensor({4}, {1}));
  EXPECT_EQ(errorOf(parseSequenceProto(badElement.str(), "b.pb")),
            "'b.pb[1]' holds 4 bytes but its shape needs 16");

  Proto maps;
  maps.varint(2, kMap);
  EXPECT_EQ(errorOf(parseSequenceProto(maps.str(), "m.pb")),
            "'m.pb' is a sequence of maps; Kiln supports sequences of tensors");

  // A TensorProto is no SequenceProto.
  EXPECT_EQ(errorOf(parseSequenceProto(floatTensor({2}, {1, 2}).str(), "x.pb")),
            "'x.pb' is not an ONNX SequenceProto");
}

TEST(OptionalProtoReader, Empty) {
  Proto optional;
  optional.bytes(1, "opt").varint(2, kTensor);
  HostValue value = valueOf(parseOptionalProto(optional.str(), "o.pb"));
  EXPECT_EQ(value.kind, ValueKind::Optional);
  EXPECT_EQ(value.inner, ValueKind::Tensor);
  EXPECT_FALSE(value.present);
  EXPECT_EQ(value.describe(), "optional, empty");

  Proto emptySequence;
  emptySequence.varint(2, kSequence);
  value = valueOf(parseOptionalProto(emptySequence.str(), "o.pb"));
  EXPECT_EQ(value.inner, ValueKind::Sequence);
  EXPECT_FALSE(value.present);

  // numpy_helper.from_optional(None), as ONNX's test data holds it: the
  // element type UNDEFINED (0), written out.
  Proto undefined;
  undefined.bytes(1, "opt").varint(2, 0);
  value = valueOf(parseOptionalProto(undefined.str(), "o.pb"));
  EXPECT_EQ(value.kind, ValueKind::Optional);
  EXPECT_FALSE(value.present);
}

TEST(OptionalProtoReader, HoldingATensor) {
  Proto optional;
  optional.varint(2, kTensor).message(3, floatTensor({2}, {1.5f, -2}));
  HostValue value = valueOf(parseOptionalProto(optional.str(), "o.pb"));
  EXPECT_EQ(value.kind, ValueKind::Optional);
  EXPECT_EQ(value.inner, ValueKind::Tensor);
  EXPECT_TRUE(value.present);
  EXPECT_EQ(values<float>(value.tensor), (std::vector<float>{1.5f, -2}));
  EXPECT_EQ(value.describe(), "optional holding float32[2]");
}

TEST(OptionalProtoReader, HoldingASequence) {
  Proto sequence;
  sequence.varint(2, kTensor);
  sequence.message(3, floatTensor({1, 2}, {1, 2}));
  sequence.message(3, floatTensor({2, 2}, {3, 4, 5, 6}));
  Proto optional;
  optional.varint(2, kSequence).message(5, sequence);
  HostValue value = valueOf(parseOptionalProto(optional.str(), "o.pb"));
  EXPECT_EQ(value.kind, ValueKind::Optional);
  EXPECT_EQ(value.inner, ValueKind::Sequence);
  EXPECT_TRUE(value.present);
  ASSERT_EQ(value.elements.size(), 2u);
  EXPECT_EQ(value.elements[1].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(value.describe(),
            "optional holding sequence of 2 float32 tensors [1, 2], [2, 2]");
}

TEST(OptionalProtoReader, Errors) {
  Proto optional;
  optional.varint(2, kTensor).message(3, floatTensor({2}, {1.5f, -2}));
  std::string truncated = optional.str().substr(0, optional.str().size() - 1);
  EXPECT_EQ(errorOf(parseOptionalProto(truncated, "t.pb")),
            "'t.pb' is not an ONNX OptionalProto");

  Proto sparse;
  sparse.varint(2, 2); // SPARSE_TENSOR
  EXPECT_EQ(errorOf(parseOptionalProto(sparse.str(), "s.pb")),
            "'s.pb' is an optional sparse tensor; Kiln supports optionals of "
            "tensors and of sequences of tensors");

  Proto disagreeing;
  disagreeing.varint(2, kSequence).message(3, floatTensor({1}, {1}));
  EXPECT_EQ(errorOf(parseOptionalProto(disagreeing.str(), "d.pb")),
            "'d.pb' declares element type SEQUENCE but holds its value in the "
            "tensor field");
}

//===----------------------------------------------------------------------===//
// readValueFile
//===----------------------------------------------------------------------===//

/// A temporary directory, removed with its files.
class TempDir {
public:
  TempDir() {
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("kiln-values", path));
  }
  ~TempDir() { llvm::sys::fs::remove_directories(path); }
  std::string file(llvm::StringRef name) const {
    llvm::SmallString<256> p(path);
    llvm::sys::path::append(p, name);
    return p.str().str();
  }
  std::string write(llvm::StringRef name, llvm::StringRef bytes) const {
    std::string p = file(name);
    std::error_code ec;
    llvm::raw_fd_ostream os(p, ec);
    EXPECT_FALSE(ec);
    os << bytes;
    return p;
  }

private:
  llvm::SmallString<256> path;
};

ValueSlot slotOf(ValueKind kind, ValueKind inner = ValueKind::Tensor) {
  ValueSlot slot;
  slot.name = "v";
  slot.kind = kind;
  slot.inner = inner;
  return slot;
}

TEST(ValueFiles, OptionalTensorFromEveryFile) {
  TempDir dir;
  ValueSlot slot = slotOf(ValueKind::Optional, ValueKind::Tensor);
  // A TensorProto is a present optional's tensor.
  HostValue value = valueOf(
      readValueFile(dir.write("t.pb", floatTensor({2}, {1, 2}).str()), slot));
  EXPECT_TRUE(value.present);
  EXPECT_EQ(values<float>(value.tensor), (std::vector<float>{1, 2}));
  // So is a .npy.
  ASSERT_TRUE(succeeded(writeNpy(dir.file("t.npy"), floats({1}, {3}))));
  value = valueOf(readValueFile(dir.file("t.npy"), slot));
  EXPECT_TRUE(value.present);
  EXPECT_EQ(values<float>(value.tensor), (std::vector<float>{3}));
  // An OptionalProto says for itself.
  Proto empty;
  empty.varint(2, kTensor);
  value = valueOf(readValueFile(dir.write("o.pb", empty.str()), slot));
  EXPECT_FALSE(value.present);
  Proto ofSequence;
  ofSequence.varint(2, kSequence).message(5, Proto());
  EXPECT_EQ(errorOf(readValueFile(dir.write("s.pb", ofSequence.str()), slot)),
            "'" + dir.file("s.pb") +
                "' holds an optional sequence, but 'v' is an optional tensor");
}

TEST(ValueFiles, SequenceDirectory) {
  TempDir dir;
  ASSERT_FALSE(llvm::sys::fs::create_directory(dir.file("seq")));
  ASSERT_TRUE(succeeded(writeNpy(dir.file("seq/0.npy"), floats({2}, {1, 2}))));
  ASSERT_TRUE(succeeded(writeNpy(dir.file("seq/1.npy"), floats({1}, {3}))));
  HostValue value =
      valueOf(readValueFile(dir.file("seq"), slotOf(ValueKind::Sequence)));
  ASSERT_EQ(value.elements.size(), 2u);
  EXPECT_EQ(values<float>(value.elements[1]), (std::vector<float>{3}));

  ASSERT_TRUE(succeeded(writeNpy(dir.file("seq/3.npy"), floats({1}, {4}))));
  EXPECT_EQ(
      errorOf(readValueFile(dir.file("seq"), slotOf(ValueKind::Sequence))),
      "'" + dir.file("seq") +
          "' holds 3.npy but no 2.npy (a sequence's elements are 0.npy, "
          "1.npy, ...)");
}

//===----------------------------------------------------------------------===//
// Grouping ABI entries
//===----------------------------------------------------------------------===//

const int64_t kDynamic[] = {-1};
const int64_t kMatrix[] = {-1, 2};
const int64_t kOpenMatrix[] = {-1, -1};
const int64_t kRows[] = {-1, 4};

kiln_tensor_info entry(const char *name, kiln_dtype dtype, int32_t rank,
                       const int64_t *shape, kiln_part part) {
  return {name, dtype, rank, shape, part};
}

TEST(ModelValues, GroupsEntries) {
  kiln_tensor_info entries[] = {
      entry("a", KILN_FLOAT32, 1, kDynamic, KILN_PART_TENSOR),
      entry("s", KILN_FLOAT32, 1, kDynamic, KILN_PART_SEQUENCE_ELEMENTS),
      entry("s", KILN_INT64, 2, kMatrix, KILN_PART_SEQUENCE_SHAPES),
      entry("o", KILN_BOOL, 0, nullptr, KILN_PART_OPTIONAL_PRESENT),
      entry("o", KILN_FLOAT32, 2, kRows, KILN_PART_TENSOR),
      entry("q", KILN_BOOL, 0, nullptr, KILN_PART_OPTIONAL_PRESENT),
      entry("q", KILN_INT32, 1, kDynamic, KILN_PART_SEQUENCE_ELEMENTS),
      entry("q", KILN_INT64, 2, kOpenMatrix, KILN_PART_SEQUENCE_SHAPES)};
  std::vector<const kiln_tensor_info *> infos;
  for (const kiln_tensor_info &info : entries)
    infos.push_back(&info);
  llvm::Expected<std::vector<ValueSlot>> slots = modelValues(infos);
  ASSERT_TRUE(bool(slots)) << llvm::toString(slots.takeError());
  ASSERT_EQ(slots->size(), 4u);
  struct Expected {
    const char *name;
    ValueKind kind, inner;
    size_t first, count;
  } expected[] = {{"a", ValueKind::Tensor, ValueKind::Tensor, 0, 1},
                  {"s", ValueKind::Sequence, ValueKind::Tensor, 1, 2},
                  {"o", ValueKind::Optional, ValueKind::Tensor, 3, 2},
                  {"q", ValueKind::Optional, ValueKind::Sequence, 5, 3}};
  for (size_t i = 0; i < 4; ++i) {
    const ValueSlot &slot = (*slots)[i];
    EXPECT_EQ(slot.name, expected[i].name);
    EXPECT_EQ(slot.kind, expected[i].kind);
    if (slot.kind == ValueKind::Optional)
      EXPECT_EQ(slot.inner, expected[i].inner);
    EXPECT_EQ(slot.firstEntry, expected[i].first);
    EXPECT_EQ(slot.numEntries, expected[i].count);
  }
  EXPECT_EQ((*slots)[3].valueEntry(), 6u);
}

TEST(ModelValues, MalformedGroups) {
  kiln_tensor_info elements =
      entry("s", KILN_FLOAT32, 1, kDynamic, KILN_PART_SEQUENCE_ELEMENTS);
  kiln_tensor_info shapes =
      entry("s", KILN_INT64, 2, kMatrix, KILN_PART_SEQUENCE_SHAPES);
  kiln_tensor_info other =
      entry("t", KILN_INT64, 2, kMatrix, KILN_PART_SEQUENCE_SHAPES);
  kiln_tensor_info present =
      entry("o", KILN_BOOL, 0, nullptr, KILN_PART_OPTIONAL_PRESENT);
  kiln_tensor_info tensor =
      entry("x", KILN_FLOAT32, 1, kDynamic, KILN_PART_TENSOR);
  // Elements without their shapes, at the end and before another name's.
  EXPECT_EQ(errorOf(modelValues({&elements})),
            "the model's sequence 's' (entry 0) lacks its shapes entry after "
            "its elements");
  EXPECT_EQ(errorOf(modelValues({&elements, &other})),
            "the model's sequence 's' (entry 0) lacks its shapes entry after "
            "its elements");
  // Shapes alone.
  EXPECT_EQ(errorOf(modelValues({&shapes})),
            "entry 0 ('s') of the model is part 2, which cannot start a "
            "tensor or a sequence");
  // A present flag followed by another value's entry, or by nothing.
  EXPECT_EQ(errorOf(modelValues({&present, &tensor})),
            "the model's optional 'o' lacks its value's entries after its "
            "present flag");
  EXPECT_EQ(errorOf(modelValues({&present})),
            "the model's optional 'o' lacks its value's entries after its "
            "present flag");
}

//===----------------------------------------------------------------------===//
// Packing and unpacking
//===----------------------------------------------------------------------===//

/// A sequence "s" of float32 elements of rank `rank` (-1: left open).
struct SequenceModel {
  explicit SequenceModel(int64_t rank) : shapesDims{-1, rank} {
    elements =
        entry("s", KILN_FLOAT32, 1, kDynamic, KILN_PART_SEQUENCE_ELEMENTS);
    shapes = entry("s", KILN_INT64, 2, shapesDims, KILN_PART_SEQUENCE_SHAPES);
    infos = {&elements, &shapes};
    slot.name = "s";
    slot.kind = ValueKind::Sequence;
    slot.numEntries = 2;
  }
  int64_t shapesDims[2];
  kiln_tensor_info elements, shapes;
  std::vector<const kiln_tensor_info *> infos;
  ValueSlot slot;
};

TEST(PackValue, SequenceRoundTrip) {
  SequenceModel model(-1);
  HostValue sequence = HostValue::ofSequence(
      {floats({2, 3}, {1, 2, 3, 4, 5, 6}), floats({1, 3}, {7, 8, 9})});
  llvm::Expected<std::vector<HostTensor>> entries =
      packValue(model.slot, model.infos, sequence);
  ASSERT_TRUE(bool(entries)) << llvm::toString(entries.takeError());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].describe(), "float32[9]");
  EXPECT_EQ(values<float>((*entries)[0]),
            (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ((*entries)[1].describe(), "int64[2, 2]");
  EXPECT_EQ(values<int64_t>((*entries)[1]), (std::vector<int64_t>{2, 3, 1, 3}));

  HostValue back = valueOf(unpackValue(model.slot, *entries));
  EXPECT_EQ(back.kind, ValueKind::Sequence);
  ASSERT_EQ(back.elements.size(), 2u);
  EXPECT_EQ(back.elements[0].shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(back.elements[1].shape, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(values<float>(back.elements[1]), (std::vector<float>{7, 8, 9}));
  EXPECT_TRUE(compareValues(back, sequence, 0, 0).matches);
}

TEST(PackValue, SequenceErrors) {
  SequenceModel open(-1), fixed(2);
  HostValue ranks = HostValue::ofSequence(
      {floats({2, 3}, {1, 2, 3, 4, 5, 6}), floats({3}, {7, 8, 9})});
  std::string error = errorOf(packValue(open.slot, open.infos, ranks));
  EXPECT_EQ(error.rfind("sequence 's': element 1 is float32[3], of rank 1", 0),
            0u)
      << error;
  // The model's element rank binds even the first element.
  error = errorOf(packValue(fixed.slot, fixed.infos,
                            HostValue::ofSequence({floats({3}, {1, 2, 3})})));
  EXPECT_NE(error.find("element 0"), std::string::npos) << error;

  HostValue types = HostValue::ofSequence(
      {floats({1}, {1}), tensor<int64_t>(KILN_INT64, {1}, {2})});
  EXPECT_EQ(errorOf(packValue(open.slot, open.infos, types)),
            "sequence 's': element 1 is int64[1], the model's elements are "
            "float32");

  EXPECT_EQ(errorOf(packValue(open.slot, open.infos,
                              HostValue::ofTensor(floats({1}, {1})))),
            "'s' is a sequence, got a tensor");
}

TEST(UnpackValue, SizesMustAddUp) {
  SequenceModel model(2);
  HostTensor flat = floats({8}, {1, 2, 3, 4, 5, 6, 7, 8});
  // [2, 3] and [1, 3]: 9 elements for 8.
  HostTensor tooMany = tensor<int64_t>(KILN_INT64, {2, 2}, {2, 3, 1, 3});
  std::string error = errorOf(unpackValue(model.slot, {flat, tooMany}));
  EXPECT_EQ(error.rfind("sequence 's': its shapes need more than the 8", 0), 0u)
      << error;
  // [2, 3] alone: 6 of the 8.
  HostTensor tooFew = tensor<int64_t>(KILN_INT64, {1, 2}, {2, 3});
  EXPECT_EQ(errorOf(unpackValue(model.slot, {flat, tooFew})),
            "sequence 's': its shapes hold 6 elements in all, its entry 8");
  HostTensor negative = tensor<int64_t>(KILN_INT64, {1, 2}, {-2, 3});
  EXPECT_EQ(errorOf(unpackValue(model.slot, {flat, negative})),
            "sequence 's': element 0 has a negative dim (-2)");
}

TEST(PackValue, Optionals) {
  const int64_t tensorDims[] = {-1, 4};
  kiln_tensor_info present =
      entry("o", KILN_BOOL, 0, nullptr, KILN_PART_OPTIONAL_PRESENT);
  kiln_tensor_info value =
      entry("o", KILN_FLOAT32, 2, tensorDims, KILN_PART_TENSOR);
  std::vector<const kiln_tensor_info *> infos = {&present, &value};
  ValueSlot slot;
  slot.name = "o";
  slot.kind = ValueKind::Optional;
  slot.inner = ValueKind::Tensor;
  slot.numEntries = 2;

  // Empty: the flag 0, and a tensor with 0 in its dynamic dims.
  llvm::Expected<std::vector<HostTensor>> entries =
      packValue(slot, infos, HostValue::emptyOptional(ValueKind::Tensor));
  ASSERT_TRUE(bool(entries)) << llvm::toString(entries.takeError());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].describe(), "bool[]");
  EXPECT_EQ(values<uint8_t>((*entries)[0]), (std::vector<uint8_t>{0}));
  EXPECT_EQ((*entries)[1].describe(), "float32[0, 4]");
  HostValue back = valueOf(unpackValue(slot, *entries));
  EXPECT_EQ(back.kind, ValueKind::Optional);
  EXPECT_FALSE(back.present);

  // Present: the flag 1 and the tensor.
  HostValue held = HostValue::presentOptional(
      HostValue::ofTensor(floats({1, 4}, {1, 2, 3, 4})));
  entries = packValue(slot, infos, held);
  ASSERT_TRUE(bool(entries)) << llvm::toString(entries.takeError());
  EXPECT_EQ(values<uint8_t>((*entries)[0]), (std::vector<uint8_t>{1}));
  back = valueOf(unpackValue(slot, *entries));
  EXPECT_TRUE(back.present);
  EXPECT_TRUE(compareValues(back, held, 0, 0).matches);

  // An empty optional sequence: no elements, shapes [0, R].
  const int64_t rank3[] = {-1, 3};
  kiln_tensor_info elements =
      entry("q", KILN_FLOAT32, 1, kDynamic, KILN_PART_SEQUENCE_ELEMENTS);
  kiln_tensor_info shapes =
      entry("q", KILN_INT64, 2, rank3, KILN_PART_SEQUENCE_SHAPES);
  std::vector<const kiln_tensor_info *> seqInfos = {&present, &elements,
                                                    &shapes};
  slot.inner = ValueKind::Sequence;
  slot.numEntries = 3;
  entries =
      packValue(slot, seqInfos, HostValue::emptyOptional(ValueKind::Sequence));
  ASSERT_TRUE(bool(entries)) << llvm::toString(entries.takeError());
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[1].describe(), "float32[0]");
  EXPECT_EQ((*entries)[2].describe(), "int64[0, 3]");
}

//===----------------------------------------------------------------------===//
// Comparing and describing
//===----------------------------------------------------------------------===//

TEST(CompareValues, Sequences) {
  HostValue expected = HostValue::ofSequence(
      {floats({2}, {1, 2}), floats({3}, {3, 4, 5}), floats({1}, {6})});
  HostValue actual = expected;
  actual.elements[1] = floats({3}, {3, 4.5f, 5});
  actual.elements[2] = floats({1}, {8});
  Comparison c = compareValues(actual, expected, 0, 0.1);
  EXPECT_FALSE(c.matches);
  EXPECT_EQ(c.message.rfind("element 1: 1 of 3 elements differ", 0), 0u)
      << c.message;
  EXPECT_EQ(c.mismatches, 2);
  EXPECT_DOUBLE_EQ(c.maxAbsError, 2.0);

  HostValue shorter = HostValue::ofSequence({floats({2}, {1, 2})});
  c = compareValues(shorter, expected, 0, 0);
  EXPECT_FALSE(c.matches);
  EXPECT_EQ(c.message, "got 1 elements, expected 3");
}

TEST(CompareValues, Optionals) {
  HostValue empty = HostValue::emptyOptional(ValueKind::Tensor);
  HostValue present =
      HostValue::presentOptional(HostValue::ofTensor(floats({2}, {1, 2})));
  EXPECT_TRUE(compareValues(empty, empty, 0, 0).matches);
  EXPECT_TRUE(
      compareValues(empty, HostValue::emptyOptional(ValueKind::Sequence), 0, 0)
          .matches);
  Comparison c = compareValues(present, empty, 0, 0);
  EXPECT_FALSE(c.matches);
  EXPECT_EQ(c.message,
            "got optional holding float32[2], expected optional, empty");
  c = compareValues(HostValue::ofTensor(floats({2}, {1, 2})), present, 0, 0);
  EXPECT_FALSE(c.matches);
}

TEST(DescribeValue, LongSequencesOnOneLine) {
  std::vector<HostTensor> elements;
  for (int i = 0; i < 10; ++i)
    elements.push_back(floats({1}, {0}));
  EXPECT_EQ(HostValue::ofSequence(elements).describe(),
            "sequence of 10 float32 tensors [1], [1], [1], [1], [1], [1], "
            "[1], [1], ...");
  EXPECT_EQ(
      HostValue::ofSequence({floats({2, 3}, {1, 2, 3, 4, 5, 6})}).describe(),
      "sequence of 1 float32 tensor [2, 3]");
  EXPECT_EQ(HostValue::ofSequence({}).describe(), "empty sequence");
}

} // namespace
