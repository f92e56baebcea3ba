"""Models that scripts/fuzz.sh found crashing the importer, rebuilt readably.

fuzz_regressions.py DIR writes into DIR:
- loop_carried_rank.onnx: a Loop whose body turns its scalar loop-carried
  value into a 1-element vector (ONNX's test_loop11 with the carried input
  declared as a scalar). Kiln rejects it; the error message used the body's
  value after freeing it (heap-use-after-free under ASan).
- scan_no_outputs.onnx: a Scan whose body has fewer outputs than the node
  has state values; a negative count of scan outputs sized a vector
  (LLVM ERROR: SmallVector unable to grow, an abort).
- sequence_map_no_outputs.onnx: a SequenceMap node without outputs whose
  body has one; expanding it read a node output past the last (a null
  protobuf field under UBSan).
- initializer_dims_overflow.onnx: an initializer whose dims multiply past
  2^63 (signed overflow under UBSan, then a wrong size check).
- declared_not_carried.onnxtxt: a ConstantOfShape value declaring 1.1e9
  floats and carrying none (the importer reserved the 4.4 GB the shape
  claims before comparing it with the data).
- scan_optional_output.onnxtxt: a Scan body whose scan output is an
  Optional; unrolling stacked it as a tensor (a misaligned read under
  UBSan).
- split_no_outputs.onnxtxt: a Split node without outputs (the equal-parts
  check divided by the output count, zero).
- shape_vector_rank.onnxtxt: ConstantOfShape of a shape input declared
  with 399999999 entries: the result's rank (3.2 GB of dims to infer).
"""
import sys

import onnx
from onnx import TensorProto, helper


def loop_carried_rank():
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Constant", [], ["one"],
                          value=helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])),
         helper.make_node("Add", ["y_in", "one"], ["y_out"])],
        "loop_body",
        [helper.make_tensor_value_info("iter_count", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("y_in", TensorProto.FLOAT, [])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("y_out", TensorProto.FLOAT, [1])])
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trip_count", "cond", "y"], ["res_y"], body=body)],
        "loop_carried_rank",
        [helper.make_tensor_value_info("trip_count", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, [])],
        [helper.make_tensor_value_info("res_y", TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])


def scan_no_outputs():
    body = helper.make_graph(
        [], "scan_body",
        [helper.make_tensor_value_info("s_in", TensorProto.FLOAT, [2]),
         helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])], [])
    graph = helper.make_graph(
        [helper.make_node("Scan", ["zero", "S"], ["T"], num_scan_inputs=1, body=body)],
        "scan_no_outputs",
        [helper.make_tensor_value_info("zero", TensorProto.FLOAT, [2]),
         helper.make_tensor_value_info("S", TensorProto.FLOAT, [4, 2])],
        [helper.make_tensor_value_info("T", TensorProto.FLOAT, None)])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 16)])


def sequence_map_no_outputs():
    body = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["c"])], "map_body",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N"]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, ["N"])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, ["N"])])
    graph = helper.make_graph(
        [helper.make_node("SequenceMap", ["x0", "x1"], [], body=body)],
        "sequence_map_no_outputs",
        [helper.make_tensor_sequence_value_info("x0", TensorProto.FLOAT, ["N"]),
         helper.make_tensor_sequence_value_info("x1", TensorProto.FLOAT, ["N"])],
        [])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def initializer_dims_overflow():
    huge = onnx.TensorProto(name="w", data_type=TensorProto.UINT8,
                            dims=[109, 97, 120, 95, 103, 114, 97, 109, 95, 108,
                                  101, 110, 103, 116, 104])
    graph = helper.make_graph(
        [helper.make_node("Identity", ["w"], ["y"])], "initializer_dims_overflow",
        [], [helper.make_tensor_value_info("y", TensorProto.UINT8, None)], [huge])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


DECLARED_NOT_CARRIED = """<ir_version: 8, opset_import: ["" : 17]>
declared (int64[2] S) => (float[?, ?] Y) {
  C = ConstantOfShape <value = float[1111111111] value> (S)
  Y = Relu (C)
}
"""


SCAN_OPTIONAL_OUTPUT = """<ir_version: 8, opset_import: ["" : 17]>
scan_optional (float[4, 2] S) => (float[2] T, float[4, 2] U) {
  zero = Constant <value = float[2] {0, 0}> ()
  T, U = Scan (zero, S) <
    num_scan_inputs = 1,
    body = scan_body (float[2] sum_in, float[2] next) => (float[2] sum_out, float[2] scan_out) {
      sum_out = Add (sum_in, next)
      scan_out = Optional (sum_out)
    }
  >
}
"""


SPLIT_NO_OUTPUTS = """<ir_version: 8, opset_import: ["" : 17]>
split_no_outputs (int32[4] S) => (int32[4] Y) {
  = Split (S)
  Y = Identity (S)
}
"""


SHAPE_VECTOR_RANK = """<ir_version: 8, opset_import: ["" : 17]>
shape_vector_rank (int64[399999999] S) => (float[?, ?] Y) {
  C = ConstantOfShape <value = float[1] {1.0}> (S)
  Y = Selu (C)
}
"""


if __name__ == "__main__":
    onnx.save(loop_carried_rank(), sys.argv[1] + "/loop_carried_rank.onnx")
    onnx.save(scan_no_outputs(), sys.argv[1] + "/scan_no_outputs.onnx")
    onnx.save(sequence_map_no_outputs(), sys.argv[1] + "/sequence_map_no_outputs.onnx")
    onnx.save(initializer_dims_overflow(), sys.argv[1] + "/initializer_dims_overflow.onnx")
    with open(sys.argv[1] + "/declared_not_carried.onnxtxt", "w") as f:
        f.write(DECLARED_NOT_CARRIED)
    with open(sys.argv[1] + "/scan_optional_output.onnxtxt", "w") as f:
        f.write(SCAN_OPTIONAL_OUTPUT)
    with open(sys.argv[1] + "/split_no_outputs.onnxtxt", "w") as f:
        f.write(SPLIT_NO_OUTPUTS)
    with open(sys.argv[1] + "/shape_vector_rank.onnxtxt", "w") as f:
        f.write(SHAPE_VECTOR_RANK)
