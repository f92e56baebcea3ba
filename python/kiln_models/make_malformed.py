#!/usr/bin/env python3
"""Write malformed (and edge-case) ONNX files for Kiln's frontend error tests.

Each case is built with onnx.helper and written byte-for-byte with
SerializeToString, so nothing in onnx "fixes up" the defect on save.  The
files written into OUTDIR are:

  not_protobuf.onnx        printable text, not a protobuf message at all
  truncated.onnx           a valid small model's bytes cut in half
  undefined_value.onnx     a node reads a value ("ghost") that nothing defines
  bad_initializer.onnx     initializer dims [4] float32 but raw_data is 12 bytes
  cyclic.onnx              A = Add(X, B); B = Relu(A): each node needs the other
  external_escape.onnx     external-data initializer at "../secret.bin"
  external_absolute.onnx   external-data initializer at "/etc/passwd"
  external_ok.onnx         VALID: Y = Add(X, W), W float32[4] = [1, 2, 3, 4]
  external_ok.bin            stored in external_ok.bin at offset 4096, length 16
                             (the bytes around it are 0xFF, i.e. NaN, so a wrong
                             offset or length shows up in the result)
  unsupported_ops.onnx     VALID ONNX using ops Kiln does not support:
                           RandomUniformLike x2, Bernoulli x1, plus one Relu

The two valid models are checked with onnx.checker; the malformed ones are
not (the checker would reject them, which is the point).  The files that must
fail protobuf parsing are verified to do so.

Where a case can be written in the ONNX text format, a hand-written copy lives
in test/Frontend/ONNX/error-*.onnxtxt.  ``--verify-onnxtxt DIR`` checks that
every .onnxtxt file in DIR still parses with onnx.parser (the same C++
OnnxParser Kiln uses); error-syntax.onnxtxt is unparseable on purpose.

Usage:

  /usr/bin/python3 make_malformed.py OUTDIR [--verify-onnxtxt DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np
import onnx
import onnx.parser
from onnx import TensorProto, helper, numpy_helper

IR_VERSION = 8
OPSET = 17

# external_ok.bin layout: PAD bytes of 0xFF, the 16-byte payload, PAD again.
EXTERNAL_OK_VALUES = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
EXTERNAL_OK_OFFSET = 4096  # the ONNX spec recommends page-aligned offsets


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def make_model(graph: onnx.GraphProto) -> onnx.ModelProto:
    """Wrap a graph in a model with a fixed IR version and default-domain opset."""
    return helper.make_model(graph, ir_version=IR_VERSION,
                             opset_imports=[helper.make_opsetid("", OPSET)],
                             producer_name="kiln make_malformed.py")


def vec4(name: str) -> onnx.ValueInfoProto:
    """A float32 [4] value info."""
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [4])


def add_graph(name: str, initializer: TensorProto) -> onnx.GraphProto:
    """Y = Add(X, W) over float32 [4], with W supplied as ``initializer``."""
    return helper.make_graph(
        [helper.make_node("Add", ["X", initializer.name], ["Y"], name="add")],
        name, [vec4("X")], [vec4("Y")], initializer=[initializer])


def external_tensor(name: str, location: str, offset: int, length: int) -> TensorProto:
    """A float32 [4] initializer whose data lives in an external file."""
    # Filled in by hand: onnx.external_data_helper.set_external_data insists on
    # the tensor still holding raw_data.
    tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=[4],
                         data_location=TensorProto.EXTERNAL)
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, str(value)
    return tensor


def write(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    print(f"  {path.name:24s} {len(data):6d} bytes")


def assert_unparseable(data: bytes, what: str) -> None:
    """Make sure ``data`` really fails protobuf parsing as a ModelProto."""
    try:
        onnx.load_model_from_string(data)
    except Exception:  # DecodeError; its exact type depends on the protobuf backend
        return
    raise AssertionError(f"{what} unexpectedly parses as a ModelProto")


# ---------------------------------------------------------------------------
# Cases.  Each writes one or more files into the output directory.
# ---------------------------------------------------------------------------


def small_valid_model() -> onnx.ModelProto:
    """A valid model with some bulk (a 64-float initializer) to cut in half."""
    w = numpy_helper.from_array(np.arange(64, dtype=np.float32), "W")
    graph = helper.make_graph(
        [helper.make_node("Add", ["X", "W"], ["Y"], name="add")], "small",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [64])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [64])],
        initializer=[w])
    model = make_model(graph)
    onnx.checker.check_model(model, full_check=True)
    return model


def not_protobuf(outdir: Path) -> None:
    # Seeded random printable text behind a fixed prefix.  'N' (0x4E) decodes
    # as field 9 with wire type 6, which does not exist, so every protobuf
    # parser rejects the file at its first byte.
    rng = np.random.default_rng(0)
    text = "".join(chr(c) for c in rng.integers(0x20, 0x7F, size=256))
    data = ("Not an ONNX model: " + text + "\n").encode("ascii")
    assert_unparseable(data, "not_protobuf.onnx")
    write(outdir / "not_protobuf.onnx", data)


def truncated(outdir: Path) -> None:
    full = small_valid_model().SerializeToString()
    data = full[: len(full) // 2]  # ends inside the graph / initializer bytes
    assert_unparseable(data, "truncated.onnx")
    write(outdir / "truncated.onnx", data)


def undefined_value(outdir: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Add", ["X", "ghost"], ["Y"], name="add")],
        "undefined_value", [vec4("X")], [vec4("Y")])
    write(outdir / "undefined_value.onnx", make_model(graph).SerializeToString())


def bad_initializer(outdir: Path) -> None:
    w = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4],
                    raw_data=np.ones(3, dtype=np.float32).tobytes())  # 12 != 4 * 4
    write(outdir / "bad_initializer.onnx",
          make_model(add_graph("bad_initializer", w)).SerializeToString())


def cyclic(outdir: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Add", ["X", "B"], ["A"], name="add"),
         helper.make_node("Relu", ["A"], ["B"], name="relu")],
        "cyclic", [vec4("X")], [vec4("A")])
    write(outdir / "cyclic.onnx", make_model(graph).SerializeToString())


def external_escape(outdir: Path) -> None:
    w = external_tensor("W", "../secret.bin", offset=0, length=16)
    write(outdir / "external_escape.onnx",
          make_model(add_graph("external_escape", w)).SerializeToString())


def external_absolute(outdir: Path) -> None:
    w = external_tensor("W", "/etc/passwd", offset=0, length=16)
    write(outdir / "external_absolute.onnx",
          make_model(add_graph("external_absolute", w)).SerializeToString())


def external_ok(outdir: Path) -> None:
    payload = EXTERNAL_OK_VALUES.tobytes()
    pad = b"\xff" * EXTERNAL_OK_OFFSET  # 0xFFFFFFFF is a float32 NaN
    write(outdir / "external_ok.bin", pad + payload + pad)

    w = external_tensor("W", "external_ok.bin", offset=EXTERNAL_OK_OFFSET, length=len(payload))
    model_path = outdir / "external_ok.onnx"
    write(model_path, make_model(add_graph("external_ok", w)).SerializeToString())

    # The path-based checker also validates the external data reference.
    onnx.checker.check_model(str(model_path), full_check=True)
    loaded = onnx.load(str(model_path))  # resolves external data relative to the model
    got = numpy_helper.to_array(loaded.graph.initializer[0])
    if not np.array_equal(got, EXTERNAL_OK_VALUES):
        raise AssertionError(f"external_ok: W reads back as {got}")


def unsupported_ops(outdir: Path) -> None:
    f32 = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("x", f32, [12])]
    outputs = [
        helper.make_tensor_value_info("r_a", f32, [12]),
        helper.make_tensor_value_info("r_b", f32, [12]),
        helper.make_tensor_value_info("Y", f32, [12]),
    ]
    initializers = []
    # Random numbers: ops Kiln does not implement.
    nodes = [
        helper.make_node("RandomUniformLike", ["x"], ["r_a"], name="random_a"),
        helper.make_node("RandomUniformLike", ["x"], ["r_b"], name="random_b", seed=1.0),
        helper.make_node("Bernoulli", ["r_a"], ["B"], name="coin"),
        helper.make_node("Relu", ["B"], ["Y"], name="relu"),
    ]
    graph = helper.make_graph(nodes, "unsupported_ops", inputs, outputs, initializer=initializers)
    model = make_model(graph)
    onnx.checker.check_model(model, full_check=True)  # valid ONNX, just not supported by Kiln
    write(outdir / "unsupported_ops.onnx", model.SerializeToString())


CASES: Dict[str, Callable[[Path], None]] = {
    "not_protobuf": not_protobuf,
    "truncated": truncated,
    "undefined_value": undefined_value,
    "bad_initializer": bad_initializer,
    "cyclic": cyclic,
    "external_escape": external_escape,
    "external_absolute": external_absolute,
    "external_ok": external_ok,
    "unsupported_ops": unsupported_ops,
}


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------


def verify_onnxtxt(directory: Path) -> bool:
    """Check that every .onnxtxt file in ``directory`` parses; returns success."""
    ok = True
    for path in sorted(directory.glob("*.onnxtxt")):
        try:
            model = onnx.parser.parse_model(path.read_text())
            ops = ", ".join(node.op_type for node in model.graph.node)
            print(f"  {path.name:28s} parses: {ops}")
        except Exception as err:
            print(f"  {path.name:28s} FAILS TO PARSE: {err}")
            ok = False
    return ok


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Write malformed ONNX files for Kiln's frontend error tests.")
    parser.add_argument("outdir", type=Path, help="directory to write the .onnx files into")
    parser.add_argument("--verify-onnxtxt", type=Path, metavar="DIR",
                        help="also check that the .onnxtxt files in DIR parse")
    args = parser.parse_args(argv)

    args.outdir.mkdir(parents=True, exist_ok=True)
    print(f"writing into {args.outdir}")
    for make in CASES.values():
        make(args.outdir)

    if args.verify_onnxtxt is not None:
        print(f"parsing {args.verify_onnxtxt}/*.onnxtxt")
        if not verify_onnxtxt(args.verify_onnxtxt):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
