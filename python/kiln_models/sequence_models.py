#!/usr/bin/env python3
"""Models with sequence and optional values, the patterns exporters emit, for
the tests of Kiln's sequence support. Built with onnx.helper; the expected
outputs are computed here with numpy.

    /usr/bin/python3 sequence_models.py OUTDIR

Writes, for each model NAME, OUTDIR/NAME.onnx and OUTDIR/NAME/ holding the
inputs (input_K.pb: TensorProto, SequenceProto or OptionalProto) and the
expected outputs (output_K.pb), as ONNX's backend test data is laid out:

  chunks     x [2, 7, 3] split into chunks of 3 along axis 1 (SplitToSequence
             with a scalar split: 3, 3, 1), a tensor inserted at position 1,
             the first chunk erased, the rest concatenated along axis 1; the
             length, the last element, and the slices along axis 2 stacked
             along a new axis 0.
  map        a sequence input of three [?, 4] tensors with different first
             dims, each scaled and shifted by a tensor input (SequenceMap),
             then concatenated along axis 0; the sequence itself and the
             SequenceMap result are outputs too.
  optional   an optional tensor input: its value plus one when present, a
             default when empty (If on OptionalHasElement), and whether it
             is present. Two data sets: present and empty.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]


def sequence_proto(name, arrays, elem_type=TensorProto.FLOAT):
    s = onnx.SequenceProto()
    s.name = name
    s.elem_type = onnx.SequenceProto.TENSOR
    for a in arrays:
        s.tensor_values.append(numpy_helper.from_array(a))
    return s


def optional_proto(name, array):
    o = onnx.OptionalProto()
    o.name = name
    o.elem_type = onnx.OptionalProto.TENSOR
    if array is not None:
        o.tensor_value.CopyFrom(numpy_helper.from_array(array))
    return o


def write_data(outdir, name, data_sets):
    """data_sets: [(inputs, outputs)], each a list of protos."""
    for i, (inputs, outputs) in enumerate(data_sets):
        d = os.path.join(outdir, name, f"test_data_set_{i}")
        os.makedirs(d, exist_ok=True)
        for kind, protos in (("input", inputs), ("output", outputs)):
            for k, proto in enumerate(protos):
                with open(os.path.join(d, f"{kind}_{k}.pb"), "wb") as f:
                    f.write(proto.SerializeToString())


def save(outdir, name, graph):
    model = helper.make_model(graph, opset_imports=OPSET)
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(outdir, name + ".onnx"))


def seq_info(name, elem_type, shape):
    return helper.make_tensor_sequence_value_info(name, elem_type, shape)


def chunks(outdir, rng):
    x = rng.standard_normal((2, 7, 3)).astype(np.float32)
    extra = rng.standard_normal((2, 2, 3)).astype(np.float32)
    nodes = [
        helper.make_node("Constant", [], ["three"],
                         value=numpy_helper.from_array(np.array(3, np.int64))),
        helper.make_node("Constant", [], ["one"],
                         value=numpy_helper.from_array(np.array(1, np.int64))),
        helper.make_node("Constant", [], ["zero"],
                         value=numpy_helper.from_array(np.array(0, np.int64))),
        helper.make_node("Constant", [], ["last"],
                         value=numpy_helper.from_array(np.array(-1, np.int64))),
        helper.make_node("SplitToSequence", ["x", "three"], ["parts"], axis=1),
        helper.make_node("SequenceInsert", ["parts", "extra", "one"],
                         ["inserted"]),
        helper.make_node("SequenceErase", ["inserted", "zero"], ["kept"]),
        helper.make_node("ConcatFromSequence", ["kept"], ["joined"], axis=1),
        helper.make_node("SequenceLength", ["kept"], ["count"]),
        helper.make_node("SequenceAt", ["kept", "last"], ["tail"]),
        helper.make_node("SplitToSequence", ["x"], ["columns"], axis=2,
                         keepdims=0),
        helper.make_node("ConcatFromSequence", ["columns"], ["stacked"],
                         axis=0, new_axis=1),
    ]
    graph = helper.make_graph(
        nodes, "chunks",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 7, 3]),
         helper.make_tensor_value_info("extra", TensorProto.FLOAT, [2, 2, 3])],
        [helper.make_tensor_value_info("joined", TensorProto.FLOAT,
                                       [2, "J", 3]),
         helper.make_tensor_value_info("count", TensorProto.INT64, []),
         helper.make_tensor_value_info("tail", TensorProto.FLOAT, [2, "T", 3]),
         helper.make_tensor_value_info("stacked", TensorProto.FLOAT,
                                       [3, 2, 7])])
    save(outdir, "chunks", graph)
    parts = [x[:, 0:3], x[:, 3:6], x[:, 6:7]]
    parts.insert(1, extra)
    kept = parts[1:]
    expected = [np.concatenate(kept, axis=1), np.array(len(kept), np.int64),
                kept[-1], np.stack([x[:, :, j] for j in range(3)], axis=0)]
    write_data(outdir, "chunks", [(
        [numpy_helper.from_array(x, "x"),
         numpy_helper.from_array(extra, "extra")],
        [numpy_helper.from_array(a, n) for a, n in
         zip(expected, ["joined", "count", "tail", "stacked"])])])


def sequence_map(outdir, rng):
    items = [rng.standard_normal((n, 4)).astype(np.float32) for n in (2, 5, 1)]
    scale = rng.standard_normal(4).astype(np.float32)
    body = helper.make_graph(
        [helper.make_node("Mul", ["item", "w"], ["scaled"]),
         helper.make_node("Add", ["scaled", "w"], ["mapped"])],
        "body",
        [helper.make_tensor_value_info("item", TensorProto.FLOAT, ["N", 4]),
         helper.make_tensor_value_info("w", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("mapped", TensorProto.FLOAT, ["N", 4])])
    nodes = [
        helper.make_node("SequenceMap", ["items", "w"], ["out"], body=body),
        helper.make_node("ConcatFromSequence", ["out"], ["all"], axis=0),
        helper.make_node("Identity", ["items"], ["same"]),
    ]
    graph = helper.make_graph(
        nodes, "map",
        [seq_info("items", TensorProto.FLOAT, ["N", 4]),
         helper.make_tensor_value_info("w", TensorProto.FLOAT, [4])],
        [seq_info("out", TensorProto.FLOAT, ["N", 4]),
         helper.make_tensor_value_info("all", TensorProto.FLOAT, ["M", 4]),
         seq_info("same", TensorProto.FLOAT, ["N", 4])])
    save(outdir, "map", graph)
    mapped = [i * scale + scale for i in items]
    write_data(outdir, "map", [(
        [sequence_proto("items", items), numpy_helper.from_array(scale, "w")],
        [sequence_proto("out", mapped),
         numpy_helper.from_array(np.concatenate(mapped, axis=0), "all"),
         sequence_proto("same", items)])])


def optional(outdir, rng):
    value = rng.standard_normal(3).astype(np.float32)
    then_branch = helper.make_graph(
        [helper.make_node("OptionalGetElement", ["maybe"], ["got"]),
         helper.make_node("Add", ["got", "one"], ["plus"])],
        "then", [], [helper.make_tensor_value_info("plus", TensorProto.FLOAT,
                                                   [3])])
    else_branch = helper.make_graph(
        [helper.make_node("Identity", ["fallback"], ["default"])],
        "else", [], [helper.make_tensor_value_info("default", TensorProto.FLOAT,
                                                   [3])])
    nodes = [
        helper.make_node("Constant", [], ["one"],
                         value=numpy_helper.from_array(np.array(1, np.float32))),
        helper.make_node("Constant", [], ["fallback"],
                         value=numpy_helper.from_array(
                             np.array([-1, -2, -3], np.float32))),
        helper.make_node("OptionalHasElement", ["maybe"], ["has"]),
        helper.make_node("If", ["has"], ["y"], then_branch=then_branch,
                         else_branch=else_branch),
    ]
    optional_type = helper.make_optional_type_proto(
        helper.make_tensor_type_proto(TensorProto.FLOAT, [3]))
    graph = helper.make_graph(
        nodes, "optional",
        [helper.make_value_info("maybe", optional_type)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3]),
         helper.make_tensor_value_info("has", TensorProto.BOOL, [])])
    save(outdir, "optional", graph)
    write_data(outdir, "optional", [
        ([optional_proto("maybe", value)],
         [numpy_helper.from_array(value + 1, "y"),
          numpy_helper.from_array(np.array(True), "has")]),
        ([optional_proto("maybe", None)],
         [numpy_helper.from_array(np.array([-1, -2, -3], np.float32), "y"),
          numpy_helper.from_array(np.array(False), "has")]),
    ])


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(0)
    chunks(outdir, rng)
    sequence_map(outdir, rng)
    optional(outdir, rng)
    print("built chunks, map, optional")


if __name__ == "__main__":
    main()
