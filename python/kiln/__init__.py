"""Kiln: an ahead-of-time compiler for ONNX models, from Python.

    import kiln
    model = kiln.compile("model.onnx")             # or an onnx.ModelProto
    outputs = model.run({"input": x})               # dict of numpy arrays
    kiln.compile("model.onnx", "model.so", quantize="int8-dynamic")
    model = kiln.load("model.so")
    text = kiln.lower(kiln.import_onnx("model.onnx"), "kiln-graph-pipeline")

The compiler and the runner are the ones kiln-compile and kiln-run use
(one library); errors raise kiln.CompileError or kiln.RunError with the
tools' messages.
"""

import os
import shutil
import tempfile

import numpy as np

from . import _kiln

CompileError = _kiln.CompileError
RunError = _kiln.RunError

__all__ = ["CompileError", "RunError", "Model", "compile", "load",
           "import_onnx", "lower", "STAGES"]

# kiln_dtype codes (kiln_runtime.h) and their numpy types; bfloat16 travels
# as its 16 bits.
_DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16,
           6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64,
           12: np.uint32, 13: np.uint64, 16: np.uint16}

# Short names of the stages kiln.lower runs (any pass pipeline kiln-opt
# accepts works too).
STAGES = {
    "kiln": "kiln-graph-pipeline",       # shape refinement, folding, fusion
    "linalg": "kiln-to-linalg",           # kiln dialect to linalg on tensors
    "llvm": "kiln-linalg-to-llvm",        # the CPU target's code generation
    "nvptx": "kiln-linalg-to-nvptx",      # the CUDA target's code generation
}


# kiln_part (kiln_runtime.h): which part of a value an ABI entry carries.
_TENSOR, _SEQUENCE_ELEMENTS, _SEQUENCE_SHAPES, _OPTIONAL_PRESENT = 0, 1, 2, 3


class TensorInfo:
    """An input or output of a compiled model: name, kind ("tensor",
    "sequence" or "optional"), numpy dtype (of the tensor, or of a
    sequence's elements), shape (None for a dimension fixed at run time; for
    a sequence, its elements' rank in Nones, or None when the rank is not
    known) and, for an optional, the kind of value it holds."""

    def __init__(self, name, dtype_code, shape, kind="tensor", holds=None):
        self.name = name
        self.kind = kind
        self.holds = holds
        self.dtype = np.dtype(_DTYPES.get(dtype_code, np.uint8))
        self.shape = None if shape is None else tuple(shape)

    def __repr__(self):
        if self.kind == "tensor":
            return f"TensorInfo({self.name!r}, {self.dtype}, {self.shape})"
        holds = f", holds={self.holds!r}" if self.holds else ""
        return (f"TensorInfo({self.name!r}, {self.kind}{holds}, {self.dtype}, "
                f"{self.shape})")


def _group(entries):
    """The graph values of a model's ABI entries (name, dtype code, shape,
    part): [(TensorInfo, number of entries)]. A sequence is its elements'
    values and their [count, rank] shapes; an optional a presence flag and
    its value's entries."""
    values, i = [], 0
    while i < len(entries):
        name, code, shape, part = entries[i]
        if part == _TENSOR:
            values.append((TensorInfo(name, code, shape), 1))
            i += 1
        elif part == _SEQUENCE_ELEMENTS:
            rank = entries[i + 1][2][1]
            values.append((TensorInfo(name, code, None if rank is None
                                      else [None] * rank, "sequence"), 2))
            i += 2
        elif part == _OPTIONAL_PRESENT:
            inner, count = _group([entries[i + 1]] + (
                [entries[i + 2]] if entries[i + 1][3] == _SEQUENCE_ELEMENTS
                else []))[0]
            values.append((TensorInfo(name, _code_of(inner.dtype), inner.shape,
                                      "optional", inner.kind), 1 + count))
            i += 1 + count
        else:
            raise RunError(f"'{name}': the model's entries are malformed")
    return values


def _code_of(dtype):
    return next(c for c, t in _DTYPES.items() if np.dtype(t) == dtype)


def _pack_sequence(info, items):
    """A list of arrays as a sequence's two entries."""
    arrays = [np.ascontiguousarray(a, dtype=info.dtype) for a in items]
    ranks = {a.ndim for a in arrays}
    if len(ranks) > 1:
        raise RunError(f"sequence '{info.name}': its elements must share a "
                       f"rank, got {sorted(ranks)}")
    rank = ranks.pop() if arrays else len(info.shape or ())
    if info.shape is not None and arrays and rank != len(info.shape):
        raise RunError(f"sequence '{info.name}': the model takes rank-"
                       f"{len(info.shape)} elements, got rank {rank}")
    values = (np.concatenate([a.reshape(-1) for a in arrays]) if arrays
              else np.zeros(0, info.dtype))
    shapes = np.array([a.shape for a in arrays], np.int64).reshape(len(arrays), rank)
    return [values, shapes]


def _unpack_sequence(values, shapes):
    out, offset = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(values[offset:offset + size].reshape(tuple(int(d) for d in shape)))
        offset += size
    return out


class Model:
    """A compiled model loaded from its shared library.

    `run` releases the GIL while the model runs and may be called from
    several threads at once. Inputs that are already C-contiguous arrays of
    the right type are read in place; outputs are numpy arrays over the
    buffers the model wrote (no copy).
    """

    def __init__(self, native, path, owned_dir=None):
        self._native = native
        self.path = path
        self._owned_dir = owned_dir
        self._in = _group(native.inputs())
        self._out = _group(native.outputs())
        self.inputs = [info for info, _ in self._in]
        self.outputs = [info for info, _ in self._out]

    def _entry_arrays(self, info, value):
        """The ABI entries' arrays of input `info` given `value`: an array;
        a list of arrays for a sequence; None for an empty optional."""
        if info.kind == "tensor":
            return [np.ascontiguousarray(value, dtype=info.dtype)]
        if info.kind == "sequence":
            if isinstance(value, np.ndarray) or not hasattr(value, "__iter__"):
                raise RunError(f"input '{info.name}' is a sequence: give a "
                               "list of arrays")
            return _pack_sequence(info, list(value))
        present = np.array(value is not None)
        if info.holds == "sequence":
            return [present] + _pack_sequence(info, [] if value is None
                                              else list(value))
        if value is None:
            # Nothing to hold: zeros, of extent 0 where the model allows.
            shape = [0 if d is None else d for d in info.shape]
            return [present, np.zeros(shape, info.dtype)]
        return [present, np.ascontiguousarray(value, dtype=info.dtype)]

    def _values(self, results):
        """The outputs' values from their entries' arrays."""
        out, i = {}, 0
        for info, count in self._out:
            parts = results[i:i + count]
            i += count
            if info.kind == "tensor":
                out[info.name] = parts[0]
            elif info.kind == "sequence":
                out[info.name] = _unpack_sequence(parts[0], parts[1])
            elif not bool(parts[0]):
                out[info.name] = None
            else:
                out[info.name] = (_unpack_sequence(parts[1], parts[2])
                                  if info.holds == "sequence" else parts[1])
        return out

    def _arrays(self, feeds):
        """The input entries' arrays in order, converted where needed."""
        if isinstance(feeds, dict):
            unknown = set(feeds) - {i.name for i in self.inputs}
            if unknown:
                raise RunError("the model has no input named "
                               + ", ".join(repr(n) for n in sorted(unknown)))
            missing = [i.name for i in self.inputs if i.name not in feeds]
            if missing:
                raise RunError("missing input " + ", ".join(repr(n) for n in missing))
            values = [feeds[i.name] for i in self.inputs]
        else:
            values = list(feeds)
            if len(values) != len(self.inputs):
                raise RunError(f"the model takes {len(self.inputs)} inputs, "
                               f"got {len(values)}")
        arrays = []
        for v, i in zip(values, self.inputs):
            arrays.extend(self._entry_arrays(i, v))
        return arrays

    def run(self, feeds):
        """feeds: a dict name -> array, or a list in input order (a list of
        arrays for a sequence input, None for an empty optional). Returns a
        dict output name -> numpy array (a list of arrays for a sequence,
        None for an empty optional)."""
        return self._values(self._native.run(self._arrays(feeds)))

    def bench(self, feeds, runs=20, warmup=3):
        """Times the model as kiln-run --bench does: returns (median, min)
        latency in milliseconds over `runs` runs after `warmup`."""
        return self._native.bench(self._arrays(feeds), int(runs), int(warmup))

    def profile(self, feeds, runs=10, warmup=3):
        """Per-kernel times of a model compiled with profile=True, as
        kiln-run --profile measures them: a dict with "runs", "mean_ms",
        "median_ms", "kernels_ms" (the kernels' total per run), "kernels"
        (dicts of "name", "ms" and "calls" per run, slowest first) and
        "trace" (the runs as Chrome trace JSON text)."""
        return self._native.profile(self._arrays(feeds), int(runs), int(warmup))

    def set_num_threads(self, threads):
        """CPU threads of the model's parallel loops (0: one per core)."""
        self._native.set_num_threads(int(threads))

    def __del__(self):
        if getattr(self, "_owned_dir", None):
            shutil.rmtree(self._owned_dir, ignore_errors=True)

    def __repr__(self):
        return f"kiln.Model({self.path!r}, inputs={self.inputs}, outputs={self.outputs})"


def load(path):
    """Loads a model compiled by kiln-compile or kiln.compile."""
    return Model(_kiln.load(os.fspath(path)), os.fspath(path))


def _shape_specs(input_shapes):
    if not input_shapes:
        return []
    specs = []
    for name, dims in input_shapes.items():
        text = "x".join("?" if d is None else str(int(d)) for d in dims)
        specs.append(f"{name}:{text}")
    return specs


def compile(model, output=None, *, target="cpu", opt_level=2, input_shapes=None,
            quantize=None, calibration_data=None, prune=None, report=None,
            cpu=None, gpu_arch=None, profile=False, sparsity=None,
            prune_budget=None):
    """Compiles an ONNX model (a path or an onnx.ModelProto).

    With `output`, writes the shared library (and its C header) there;
    without, into a temporary directory that lives as long as the returned
    model. Returns the loaded Model either way.

    input_shapes: {name: [dims]} (None keeps a dim dynamic), as
    --input-shape. quantize: "int8", "int8-dynamic", "int8-weight" or
    "int4-weight". calibration_data (quantize="int8", or with prune or an
    N:M sparsity): an iterable of dicts
    name -> numpy array, one per input set. report: a path for the JSON
    compile report. cpu, gpu_arch: as --cpu and --gpu-arch. profile: a
    timer around each kernel, for Model.profile (as --profile).
    prune: "channels:R", "ffn:R" and/or "heads:N|R" (comma-separated), as
    --prune.
    sparsity: "auto" (the default), "off" or "N:M" such as "2:4", as
    --sparsity. With prune or an N:M sparsity, calibration_data measures
    the output SQNR against the unpruned model (in the report), and
    prune_budget (dB) scales the prune ratios down to meet it, as
    --prune-budget.
    """
    work = tempfile.mkdtemp(prefix="kiln-")
    keep_work = False
    try:
        if hasattr(model, "SerializeToString"):
            path = os.path.join(work, "model.onnx")
            with open(path, "wb") as f:
                f.write(model.SerializeToString())
        else:
            path = os.fspath(model)
        calibration_dir = ""
        if calibration_data is not None:
            calibration_dir = os.path.join(work, "calibration")
            count = 0
            for index, feeds in enumerate(calibration_data):
                set_dir = os.path.join(calibration_dir, f"set_{index:04d}")
                os.makedirs(set_dir)
                for name, value in feeds.items():
                    np.save(os.path.join(set_dir, f"{name}.npy"), np.asarray(value))
                count += 1
            if count == 0:
                raise CompileError("calibration_data holds no input sets")
        if output is None:
            output = os.path.join(work, "model.so")
            keep_work = True
        _kiln.compile(path, os.fspath(output), target, int(opt_level),
                      _shape_specs(input_shapes), quantize or "none",
                      calibration_dir, os.fspath(report) if report else "",
                      cpu or "", gpu_arch or "", bool(profile), prune or "",
                      sparsity or "auto", float(prune_budget or 0))
        return Model(_kiln.load(os.fspath(output)), os.fspath(output),
                     work if keep_work else None)
    finally:
        if not keep_work:
            shutil.rmtree(work, ignore_errors=True)


def import_onnx(path, input_shapes=None):
    """The kiln-dialect MLIR text of an ONNX model, as kiln-translate
    --import-onnx prints it."""
    return _kiln.import_onnx(os.fspath(path), _shape_specs(input_shapes))


def lower(mlir_text, stage):
    """Runs a stage ("kiln", "linalg", "llvm", "nvptx", or any pass pipeline
    kiln-opt accepts, e.g. "kiln-to-linalg") on MLIR text; returns the text
    after it."""
    return _kiln.lower(mlir_text, STAGES.get(stage, stage))
