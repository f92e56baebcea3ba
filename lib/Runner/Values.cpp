//===- Values.cpp - graph values over a compiled model's ABI entries ------===//
//
// A compiled model's C ABI carries tensors only: a graph input or output
// that is a sequence or an optional is split into several consecutive
// entries (kiln_part, in kiln_runtime.h). Here the runner groups the entries
// back into graph values, packs a value into its entries and unpacks it from
// them, and compares values, so that kiln-run speaks ONNX values while
// LoadedModel::run keeps to the ABI's flat entries.
//
//===----------------------------------------------------------------------===//

#include "kiln/Runner/Runner.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cstring>

using namespace kiln;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

const char *kiln::valueKindName(ValueKind kind) {
  switch (kind) {
  case ValueKind::Tensor:
    return "tensor";
  case ValueKind::Sequence:
    return "sequence";
  case ValueKind::Optional:
    return "optional";
  }
  return "value";
}

//===----------------------------------------------------------------------===//
// HostValue
//===----------------------------------------------------------------------===//

HostValue HostValue::ofTensor(HostTensor tensor) {
  HostValue value;
  value.kind = ValueKind::Tensor;
  value.tensor = std::move(tensor);
  return value;
}

HostValue HostValue::ofSequence(std::vector<HostTensor> elements) {
  HostValue value;
  value.kind = ValueKind::Sequence;
  value.elements = std::move(elements);
  return value;
}

HostValue HostValue::presentOptional(HostValue held) {
  // An optional of an optional is not a value Kiln compiles; callers pass a
  // tensor or a sequence.
  HostValue value = std::move(held);
  value.inner = value.kind;
  value.kind = ValueKind::Optional;
  value.present = true;
  return value;
}

HostValue HostValue::emptyOptional(ValueKind inner) {
  HostValue value;
  value.kind = ValueKind::Optional;
  value.inner = inner;
  value.present = false;
  return value;
}

bool HostValue::holdsSequence() const {
  return kind == ValueKind::Sequence ||
         (kind == ValueKind::Optional && inner == ValueKind::Sequence);
}

bool ValueSlot::holdsSequence() const {
  return kind == ValueKind::Sequence ||
         (kind == ValueKind::Optional && inner == ValueKind::Sequence);
}

/// "[2, 3]".
static std::string shapeText(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

/// "sequence of 3 float32 tensors [2, 3], [1, 3], [4, 3]": one line, so
/// the shapes past the eighth are left out.
static std::string describeSequence(const std::vector<HostTensor> &elements) {
  constexpr size_t kShown = 8;
  if (elements.empty())
    return "empty sequence";
  bool sameType = true;
  for (const HostTensor &element : elements)
    sameType &= element.dtype == elements.front().dtype;
  std::string text = "sequence of " + std::to_string(elements.size()) + " ";
  if (sameType)
    text += std::string(dtypeName(elements.front().dtype)) + " ";
  text += elements.size() == 1 ? "tensor " : "tensors ";
  for (size_t i = 0; i < elements.size() && i < kShown; ++i)
    text += (i ? ", " : "") +
            (sameType ? shapeText(elements[i].shape) : elements[i].describe());
  if (elements.size() > kShown)
    text += ", ...";
  return text;
}

std::string HostValue::describe() const {
  switch (kind) {
  case ValueKind::Tensor:
    return tensor.describe();
  case ValueKind::Sequence:
    return describeSequence(elements);
  case ValueKind::Optional:
    if (!present)
      return "optional, empty";
    return "optional holding " + (inner == ValueKind::Sequence
                                      ? describeSequence(elements)
                                      : tensor.describe());
  }
  return "";
}

//===----------------------------------------------------------------------===//
// Grouping entries into values
//===----------------------------------------------------------------------===//

/// An entry's name ("" for none).
static llvm::StringRef nameOf(const kiln_tensor_info &info) {
  return info.name ? info.name : "";
}

/// Checks that entry `index` is a sequence's SEQUENCE_SHAPES part following
/// its SEQUENCE_ELEMENTS at `index - 1`, and that both have the ABI's ranks
/// and types (rank-1 elements, an int64 [count, rank] matrix).
static llvm::Error
checkSequenceParts(const std::vector<const kiln_tensor_info *> &entries,
                   size_t index) {
  const kiln_tensor_info &elements = *entries[index - 1];
  llvm::StringRef name = nameOf(elements);
  if (index >= entries.size() ||
      entries[index]->part != KILN_PART_SEQUENCE_SHAPES ||
      name != nameOf(*entries[index]))
    return makeError("the model's sequence '" + name + "' (entry " +
                     llvm::Twine(index - 1) +
                     ") lacks its shapes entry after its elements");
  const kiln_tensor_info &shapes = *entries[index];
  if (elements.rank != 1)
    return makeError("the model's sequence '" + name +
                     "' has elements of rank " + llvm::Twine(elements.rank) +
                     ", not 1");
  if (shapes.rank != 2 || shapes.dtype != KILN_INT64)
    return makeError("the model's sequence '" + name + "' has shapes of " +
                     dtypeName(shapes.dtype) + " and rank " +
                     llvm::Twine(shapes.rank) + ", not an int64 matrix");
  return llvm::Error::success();
}

llvm::Expected<std::vector<ValueSlot>>
kiln::modelValues(const std::vector<const kiln_tensor_info *> &entries) {
  std::vector<ValueSlot> slots;
  for (size_t i = 0; i < entries.size();) {
    const kiln_tensor_info &first = *entries[i];
    ValueSlot slot;
    slot.name = nameOf(first).str();
    slot.firstEntry = i;
    // The tensor or sequence that starts at `at`: the value itself, or an
    // optional's value after its present flag.
    auto payload = [&](size_t at, ValueKind &kind) -> llvm::Error {
      if (at >= entries.size() || slot.name != nameOf(*entries[at]))
        return makeError("the model's optional '" + slot.name +
                         "' lacks its value's entries after its present flag");
      switch (entries[at]->part) {
      case KILN_PART_TENSOR:
        kind = ValueKind::Tensor;
        return llvm::Error::success();
      case KILN_PART_SEQUENCE_ELEMENTS:
        kind = ValueKind::Sequence;
        return checkSequenceParts(entries, at + 1);
      default:
        return makeError("entry " + llvm::Twine(at) + " ('" + slot.name +
                         "') of the model is part " +
                         llvm::Twine(static_cast<int>(entries[at]->part)) +
                         ", which cannot start a tensor or a sequence");
      }
    };
    if (first.part == KILN_PART_OPTIONAL_PRESENT) {
      if (first.rank != 0 || first.dtype != KILN_BOOL)
        return makeError("the model's optional '" + slot.name +
                         "' has a present flag that is not a bool scalar");
      slot.kind = ValueKind::Optional;
      if (llvm::Error error = payload(i + 1, slot.inner))
        return std::move(error);
      slot.numEntries = slot.inner == ValueKind::Sequence ? 3 : 2;
    } else {
      if (llvm::Error error = payload(i, slot.kind))
        return std::move(error);
      slot.numEntries = slot.kind == ValueKind::Sequence ? 2 : 1;
    }
    i += slot.numEntries;
    slots.push_back(std::move(slot));
  }
  return slots;
}

//===----------------------------------------------------------------------===//
// Packing and unpacking
//===----------------------------------------------------------------------===//

/// A tensor of `dtype` and `shape` filled with zeros.
static HostTensor zeroTensor(kiln_dtype dtype, std::vector<int64_t> shape) {
  HostTensor tensor;
  tensor.dtype = dtype;
  tensor.shape = std::move(shape);
  tensor.data.assign(tensor.numElements() * dtypeSize(dtype), 0);
  return tensor;
}

/// The rank the model gives a sequence's elements (the shapes entry's
/// second dim), or -1 when it leaves it to the data.
static int64_t sequenceRank(const kiln_tensor_info &shapes) {
  return shapes.rank == 2 ? shapes.shape[1] : -1;
}

/// A sequence's two entries: its elements concatenated, and their shapes.
static llvm::Expected<std::vector<HostTensor>>
packSequence(const std::string &name, const kiln_tensor_info &elementsInfo,
             const kiln_tensor_info &shapesInfo,
             std::vector<HostTensor> elements) {
  int64_t rank = sequenceRank(shapesInfo);
  if (rank < 0)
    rank = elements.empty() ? 0 : elements.front().shape.size();
  HostTensor flat, shapes;
  flat.dtype = elementsInfo.dtype;
  shapes.dtype = KILN_INT64;
  shapes.shape = {static_cast<int64_t>(elements.size()), rank};
  int64_t count = 0;
  for (auto [i, element] : llvm::enumerate(elements)) {
    if (element.dtype != flat.dtype)
      return makeError("sequence '" + name + "': element " + llvm::Twine(i) +
                       " is " + element.describe() +
                       ", the model's elements are " + dtypeName(flat.dtype));
    if (static_cast<int64_t>(element.shape.size()) != rank)
      return makeError("sequence '" + name + "': element " + llvm::Twine(i) +
                       " is " + element.describe() + ", of rank " +
                       llvm::Twine(element.shape.size()) +
                       "; the sequence's elements must all have rank " +
                       llvm::Twine(rank));
    count += element.numElements();
    flat.data.insert(flat.data.end(), element.data.begin(), element.data.end());
    for (int64_t d : element.shape) {
      const char *bytes = reinterpret_cast<const char *>(&d);
      shapes.data.insert(shapes.data.end(), bytes, bytes + sizeof d);
    }
  }
  flat.shape = {count};
  std::vector<HostTensor> parts;
  parts.push_back(std::move(flat));
  parts.push_back(std::move(shapes));
  return parts;
}

/// The entries of an empty optional's value: a tensor with 0 in its dynamic
/// dims (the model's static dims as they are), or a sequence of no
/// elements.
static std::vector<HostTensor>
emptyPayload(const ValueSlot &slot,
             const std::vector<const kiln_tensor_info *> &entries) {
  const kiln_tensor_info &info = *entries[slot.valueEntry()];
  std::vector<HostTensor> parts;
  if (slot.inner == ValueKind::Tensor) {
    std::vector<int64_t> shape;
    for (int32_t d = 0; d < info.rank; ++d)
      shape.push_back(std::max<int64_t>(info.shape[d], 0));
    parts.push_back(zeroTensor(info.dtype, std::move(shape)));
    return parts;
  }
  int64_t rank = sequenceRank(*entries[slot.valueEntry() + 1]);
  parts.push_back(zeroTensor(info.dtype, {0}));
  parts.push_back(zeroTensor(KILN_INT64, {0, std::max<int64_t>(rank, 0)}));
  return parts;
}

/// "a tensor", "an optional sequence": what a value or slot is, in errors.
static std::string kindPhrase(ValueKind kind, ValueKind inner) {
  if (kind == ValueKind::Optional)
    return std::string("an optional ") + valueKindName(inner);
  return std::string("a ") + valueKindName(kind);
}

llvm::Expected<std::vector<HostTensor>>
kiln::packValue(const ValueSlot &slot,
                const std::vector<const kiln_tensor_info *> &entries,
                HostValue value) {
  if (slot.firstEntry + slot.numEntries > entries.size())
    return makeError("'" + slot.name + "' lies past the model's entries");
  // An empty optional fits either kind of optional: it holds nothing.
  if (value.kind != slot.kind || (slot.kind == ValueKind::Optional &&
                                  value.present && value.inner != slot.inner))
    return makeError("'" + slot.name + "' is " +
                     kindPhrase(slot.kind, slot.inner) + ", got " +
                     kindPhrase(value.kind, value.inner));
  std::vector<HostTensor> parts;
  if (slot.kind == ValueKind::Optional) {
    HostTensor present;
    present.dtype = KILN_BOOL;
    present.data.assign(1, value.present ? 1 : 0);
    parts.push_back(std::move(present));
    if (!value.present) {
      for (HostTensor &part : emptyPayload(slot, entries))
        parts.push_back(std::move(part));
      return parts;
    }
  }
  if (!value.holdsSequence()) {
    parts.push_back(std::move(value.tensor));
    return parts;
  }
  size_t at = slot.valueEntry();
  llvm::Expected<std::vector<HostTensor>> sequence = packSequence(
      slot.name, *entries[at], *entries[at + 1], std::move(value.elements));
  if (!sequence)
    return sequence.takeError();
  for (HostTensor &part : *sequence)
    parts.push_back(std::move(part));
  return parts;
}

/// The elements of a sequence from its two entries, split by the rows of
/// the shapes.
static llvm::Expected<std::vector<HostTensor>>
unpackSequence(const std::string &name, const HostTensor &flat,
               const HostTensor &shapes) {
  if (shapes.dtype != KILN_INT64 || shapes.shape.size() != 2)
    return makeError("sequence '" + name + "': its shapes are " +
                     shapes.describe() + ", not an int64 [count, rank] matrix");
  int64_t count = shapes.shape[0], rank = shapes.shape[1];
  size_t width = dtypeSize(flat.dtype);
  if (static_cast<size_t>(shapes.numElements()) * 8 != shapes.data.size() ||
      static_cast<size_t>(flat.numElements()) * width != flat.data.size())
    return makeError("sequence '" + name +
                     "': an entry's bytes do not match its shape");
  std::vector<HostTensor> elements;
  int64_t offset = 0, total = flat.numElements();
  for (int64_t i = 0; i < count; ++i) {
    HostTensor element;
    element.dtype = flat.dtype;
    bool zero = false;
    for (int64_t d = 0; d < rank; ++d) {
      int64_t dim;
      std::memcpy(&dim, shapes.data.data() + (i * rank + d) * 8, 8);
      if (dim < 0)
        return makeError("sequence '" + name + "': element " + llvm::Twine(i) +
                         " has a negative dim (" + llvm::Twine(dim) + ")");
      zero |= dim == 0;
      element.shape.push_back(dim);
    }
    // The element's size, compared with what is left as it grows: a
    // product past the entry's elements is an error before it can overflow.
    int64_t n = zero ? 0 : 1;
    for (int64_t dim : element.shape) {
      if (n != 0 && n > (total - offset) / dim)
        return makeError(
            "sequence '" + name + "': its shapes need more than the " +
            llvm::Twine(total) + " elements its entry holds (element " +
            llvm::Twine(i) + " is " + shapeText(element.shape) + ")");
      n *= dim;
    }
    const char *begin = flat.data.data() + offset * width;
    element.data.assign(begin, begin + n * width);
    offset += n;
    elements.push_back(std::move(element));
  }
  if (offset != total)
    return makeError("sequence '" + name + "': its shapes hold " +
                     llvm::Twine(offset) + " elements in all, its entry " +
                     llvm::Twine(total));
  return elements;
}

llvm::Expected<HostValue>
kiln::unpackValue(const ValueSlot &slot, llvm::ArrayRef<HostTensor> entries) {
  if (slot.firstEntry + slot.numEntries > entries.size())
    return makeError("'" + slot.name + "' lies past the model's " +
                     llvm::Twine(entries.size()) + " entries");
  if (slot.kind == ValueKind::Optional) {
    const HostTensor &flag = entries[slot.firstEntry];
    if (flag.data.empty())
      return makeError("optional '" + slot.name + "': its present flag is " +
                       flag.describe() + ", not a bool scalar");
    // An empty optional's value entries hold an empty placeholder.
    if (flag.data[0] == 0)
      return HostValue::emptyOptional(slot.inner);
  }
  size_t at = slot.valueEntry();
  HostValue value;
  if (!slot.holdsSequence()) {
    value = HostValue::ofTensor(entries[at]);
  } else {
    llvm::Expected<std::vector<HostTensor>> elements =
        unpackSequence(slot.name, entries[at], entries[at + 1]);
    if (!elements)
      return elements.takeError();
    value = HostValue::ofSequence(std::move(*elements));
  }
  if (slot.kind == ValueKind::Optional)
    return HostValue::presentOptional(std::move(value));
  return value;
}

llvm::Expected<std::vector<HostValue>>
kiln::unpackValues(llvm::ArrayRef<ValueSlot> slots,
                   llvm::ArrayRef<HostTensor> entries) {
  std::vector<HostValue> values;
  for (const ValueSlot &slot : slots) {
    llvm::Expected<HostValue> value = unpackValue(slot, entries);
    if (!value)
      return value.takeError();
    values.push_back(std::move(*value));
  }
  return values;
}

llvm::Expected<std::string>
kiln::describeValue(const ValueSlot &slot, llvm::ArrayRef<HostTensor> entries) {
  // A tensor, the common case, is described in place: an output may be
  // large.
  if (slot.kind == ValueKind::Tensor && slot.firstEntry < entries.size())
    return entries[slot.firstEntry].describe();
  llvm::Expected<HostValue> value = unpackValue(slot, entries);
  if (!value)
    return value.takeError();
  return value->describe();
}

//===----------------------------------------------------------------------===//
// Comparison
//===----------------------------------------------------------------------===//

/// Compares two sequences element by element.
static Comparison compareSequences(const std::vector<HostTensor> &actual,
                                   const std::vector<HostTensor> &expected,
                                   double rtol, double atol) {
  Comparison result;
  if (actual.size() != expected.size()) {
    result.matches = false;
    result.message = "got " + std::to_string(actual.size()) +
                     " elements, expected " + std::to_string(expected.size());
    return result;
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    Comparison element = compareTensors(actual[i], expected[i], rtol, atol);
    result.mismatches += element.mismatches;
    result.maxAbsError = std::max(result.maxAbsError, element.maxAbsError);
    if (element.matches || !result.matches)
      continue;
    result.matches = false;
    result.message = "element " + std::to_string(i) + ": " + element.message;
  }
  return result;
}

Comparison kiln::compareValues(const HostValue &actual,
                               const HostValue &expected, double rtol,
                               double atol) {
  Comparison result;
  bool optional = actual.kind == ValueKind::Optional;
  // Two empty optionals match, whatever they would hold.
  if (optional && expected.kind == ValueKind::Optional && !actual.present &&
      !expected.present)
    return result;
  if (actual.kind != expected.kind ||
      (optional && (actual.present != expected.present ||
                    actual.inner != expected.inner))) {
    result.matches = false;
    result.message =
        "got " + actual.describe() + ", expected " + expected.describe();
    return result;
  }
  if (actual.holdsSequence())
    return compareSequences(actual.elements, expected.elements, rtol, atol);
  return compareTensors(actual.tensor, expected.tensor, rtol, atol);
}
