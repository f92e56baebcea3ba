#!/usr/bin/env python3
"""The GPU half of bench/gpu_check.sh: runs on the machine with the GPU.

It needs Python 3 with numpy (and PyTorch for the comparisons), nothing of
Kiln's build: each model is a compiled .so loaded with ctypes through the
Kiln C ABI (include/kiln/Runtime/kiln_runtime.h).

For each model in DIR/models.json it
  - runs the Kiln .so on DIR/NAME.inputs/*.npy and compares every output
    with ONNX Runtime's CPU output computed when the check was prepared
    (DIR/NAME.expected/*.npy), within the model's tolerances;
  - times it (median of --runs after warmup);
  - times the same torch module (python/kiln_models/export_models.py, the
    module the ONNX file was exported from) in eager mode and with
    torch.compile on the GPU, in fp32.
Then it times the GEMM model against torch.matmul on the same 4096^3 fp32
product (TF32 off on both sides). One JSON line per result goes to stdout
and to DIR/results.jsonl.
"""

import argparse
import ctypes
import json
import os
import statistics
import sys
import time

import numpy as np

# (m, n, k) of the GEMM correctness sweep.
SWEEP = [(1, 1, 1), (3, 5, 7), (16, 16, 8), (129, 130, 17), (127, 1000, 9),
         (256, 64, 1000), (1, 4096, 512), (300, 17, 128)]

DTYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 5: np.int16, 6: np.int32,
          7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64}


class TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int32), ("shape", ctypes.POINTER(ctypes.c_int64))]


class Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int32), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("size_bytes", ctypes.c_size_t)]


class KilnModel:
    """A compiled model, run through the C ABI."""

    def __init__(self, path):
        self.lib = ctypes.CDLL(os.path.abspath(path))
        self.lib.kiln_model_input.restype = ctypes.POINTER(TensorInfo)
        self.lib.kiln_model_output.restype = ctypes.POINTER(TensorInfo)
        self.lib.kiln_model_last_error.restype = ctypes.c_char_p
        self.lib.kiln_free.argtypes = [ctypes.c_void_p]
        self.inputs = [self._info(self.lib.kiln_model_input(i))
                       for i in range(self.lib.kiln_model_num_inputs())]
        self.outputs = [self._info(self.lib.kiln_model_output(i))
                        for i in range(self.lib.kiln_model_num_outputs())]

    @staticmethod
    def _info(pointer):
        info = pointer.contents
        return (info.name.decode(), info.dtype, info.rank)

    def run_device(self, feeds, outputs):
        """kiln_model_run_device on torch CUDA tensors: feeds and outputs map
        names to contiguous tensors (outputs of the right shape)."""
        keep = []

        def tensor(t, dtype, rank):
            shape = (ctypes.c_int64 * max(rank, 1))(*t.shape)
            keep.append(shape)
            return Tensor(t.data_ptr(), dtype, rank, shape, t.numel() * t.element_size())

        ins = (Tensor * len(self.inputs))(*[tensor(feeds[name], dtype, rank)
                                            for name, dtype, rank in self.inputs])
        outs = (Tensor * len(self.outputs))(*[tensor(outputs[name], dtype, rank)
                                              for name, dtype, rank in self.outputs])
        status = self.lib.kiln_model_run_device(ins, len(self.inputs), outs,
                                                len(self.outputs))
        if status != 0:
            raise RuntimeError(self.lib.kiln_model_last_error().decode())

    def run(self, feeds):
        """feeds: name -> array. Returns name -> array."""
        keep = []
        ins = (Tensor * len(self.inputs))()
        for i, (name, dtype, rank) in enumerate(self.inputs):
            array = np.ascontiguousarray(feeds[name], dtype=DTYPES[dtype])
            shape = (ctypes.c_int64 * max(rank, 1))(*array.shape)
            keep += [array, shape]
            ins[i] = Tensor(array.ctypes.data, dtype, rank, shape, array.nbytes)
        outs = (Tensor * len(self.outputs))()
        shapes = []
        for i, (_, dtype, rank) in enumerate(self.outputs):
            shape = (ctypes.c_int64 * max(rank, 1))()
            shapes.append(shape)
            outs[i] = Tensor(None, dtype, rank, shape, 0)
        status = self.lib.kiln_model_run(ins, len(self.inputs), outs, len(self.outputs))
        if status != 0:
            raise RuntimeError(self.lib.kiln_model_last_error().decode())
        results = {}
        for i, (name, dtype, rank) in enumerate(self.outputs):
            dims = tuple(outs[i].shape[k] for k in range(rank))
            count = int(np.prod(dims)) if dims else 1
            buffer = (ctypes.c_char * (count * np.dtype(DTYPES[dtype]).itemsize)).from_address(
                outs[i].data)
            results[name] = np.frombuffer(buffer, dtype=DTYPES[dtype]).reshape(dims).copy()
            self.lib.kiln_free(ctypes.c_void_p(outs[i].data))
        return results


def median_ms(fn, runs, warmup, sync=None):
    for _ in range(warmup):
        fn()
    if sync:
        sync()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def emit(record, sink):
    line = json.dumps(record)
    print(line, flush=True)
    sink.write(line + "\n")
    sink.flush()


def torch_timings(name, feeds, runs, warmup, repo):
    """Eager and torch.compile medians (ms) of the model's torch module."""
    try:
        import torch
        sys.path.insert(0, os.path.join(repo, "python", "kiln_models"))
        import export_models
    except Exception as error:  # torch or torchvision missing on this machine
        return {"torch_error": f"{type(error).__name__}: {error}"}
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    spec = export_models.MODELS[name]
    model = spec.build().eval().cuda()
    args = [torch.from_numpy(np.asarray(a)).cuda() for a in feeds.values()]
    result = {}
    with torch.no_grad():
        result["torch_eager_ms"] = median_ms(lambda: model(*args), runs, warmup,
                                             torch.cuda.synchronize)
        try:
            compiled = torch.compile(model)
            result["torch_compile_ms"] = median_ms(lambda: compiled(*args), runs,
                                                   max(warmup, 3), torch.cuda.synchronize)
        except Exception as error:
            result["torch_compile_error"] = f"{type(error).__name__}: {error}"[:300]
    return result


def device_timing(model, feeds, outputs, runs, warmup):
    """Latency with inputs and outputs in GPU memory (kiln_model_run_device),
    and whether that path gives the same outputs."""
    try:
        import torch
        ins = {name: torch.from_numpy(np.ascontiguousarray(a)).cuda()
               for name, a in feeds.items()}
        outs = {name: torch.empty(v.shape, dtype=torch.from_numpy(v).dtype, device="cuda")
                for name, v in outputs.items()}
        model.run_device(ins, outs)
        same = all(np.array_equal(outs[name].cpu().numpy(), v) for name, v in outputs.items())
        ms = median_ms(lambda: model.run_device(ins, outs), runs, warmup,
                       torch.cuda.synchronize)
        return {"kiln_device_ms": ms, "device_entry_same": same}
    except Exception as error:
        return {"device_entry_error": f"{type(error).__name__}: {error}"}


def check_model(directory, entry, runs, warmup, repo, sink):
    name = entry["name"]
    record = {"model": name}
    try:
        model = KilnModel(os.path.join(directory, name + ".so"))
        feeds = {}
        for input_name, _, _ in model.inputs:
            feeds[input_name] = np.load(os.path.join(directory, name + ".inputs",
                                                     input_name + ".npy"))
        start = time.perf_counter()
        outputs = model.run(feeds)
        record["first_run_ms"] = (time.perf_counter() - start) * 1e3
        worst = 0.0
        ok = True
        for output_name, value in outputs.items():
            expected = np.load(os.path.join(directory, name + ".expected",
                                            output_name + ".npy"))
            if expected.shape != value.shape:
                ok = False
                record["error"] = f"{output_name}: shape {value.shape}, expected {expected.shape}"
                continue
            diff = np.abs(value.astype(np.float64) - expected.astype(np.float64))
            bound = entry["atol"] + entry["rtol"] * np.abs(expected.astype(np.float64))
            ok = ok and bool(np.all(diff <= bound)) and not np.isnan(value).any()
            worst = max(worst, float(np.max(diff / bound)) if diff.size else 0.0)
        record["worst_error_over_tolerance"] = worst
        record["rtol"], record["atol"] = entry["rtol"], entry["atol"]
        record["kiln_ms"] = median_ms(lambda: model.run(feeds), runs, warmup)
        record.update(device_timing(model, feeds, outputs, runs, warmup))
        record["match"] = ok and record.get("device_entry_same", False)
        if entry.get("torch", True):
            record.update(torch_timings(name, feeds, runs, warmup, repo))
    except Exception as error:
        record["error"] = f"{type(error).__name__}: {error}"
    emit(record, sink)
    return record.get("match", False)


def check_gemm(directory, size, runs, warmup, sink):
    record = {"model": f"gemm_{size}", "m": size, "n": size, "k": size}
    try:
        import torch
        torch.backends.cuda.matmul.allow_tf32 = False
        model = KilnModel(os.path.join(directory, "gemm_inputs.so"))
        rng = np.random.default_rng(0)
        a = rng.standard_normal((size, size), dtype=np.float32)
        b = rng.standard_normal((size, size), dtype=np.float32)
        names = [n for n, _, _ in model.inputs]
        # Edges first: sizes that are not multiples of the kernels' tiles.
        worst = 0.0
        for m, n, k in SWEEP:
            x = rng.standard_normal((m, k), dtype=np.float32)
            y = rng.standard_normal((k, n), dtype=np.float32)
            got = next(iter(model.run({names[0]: x, names[1]: y}).values()))
            want = x.astype(np.float64) @ y.astype(np.float64)
            error = float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))
            worst = max(worst, error)
            if got.shape != want.shape or not error < 1e-4:
                raise RuntimeError(f"{m}x{n}x{k}: relative error {error}")
        record["sweep_shapes"] = len(SWEEP)
        record["sweep_max_error_over_max"] = worst
        feeds = {names[0]: a, names[1]: b}
        out = next(iter(model.run(feeds).values()))
        ta, tb = torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda()
        reference = (ta.double() @ tb.double()).cpu().numpy()
        scale = np.abs(reference).max()
        record["max_error_over_max"] = float(np.abs(out - reference).max() / scale)
        record["match"] = record["max_error_over_max"] < 1e-4
        flops = 2.0 * size ** 3
        # Kiln's time includes copying A and B in and C out (the C ABI takes
        # host memory); the kernel alone is shown by the torch-side copy cost.
        record["kiln_ms"] = median_ms(lambda: model.run(feeds), runs, warmup)
        record["torch_matmul_ms"] = median_ms(lambda: ta @ tb, runs, warmup,
                                              torch.cuda.synchronize)
        record["torch_copy_in_out_ms"] = median_ms(
            lambda: (torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda(),
                     (ta @ tb).cpu()), runs, warmup, torch.cuda.synchronize)
        tc = torch.empty((size, size), device="cuda")
        model.run_device({names[0]: ta, names[1]: tb}, {model.outputs[0][0]: tc})
        record["device_entry_max_error_over_max"] = float(
            np.abs(tc.cpu().numpy() - reference).max() / scale)
        record["match"] = (record["match"] and
                           record["device_entry_max_error_over_max"] < 1e-4)
        record["kiln_device_ms"] = median_ms(
            lambda: model.run_device({names[0]: ta, names[1]: tb},
                                     {model.outputs[0][0]: tc}),
            runs, warmup, torch.cuda.synchronize)
        record["kiln_device_tflops"] = flops / record["kiln_device_ms"] / 1e9
        record["kiln_tflops"] = flops / record["kiln_ms"] / 1e9
        record["torch_tflops"] = flops / record["torch_matmul_ms"] / 1e9
    except Exception as error:
        record["error"] = f"{type(error).__name__}: {error}"
    emit(record, sink)
    return record.get("match", False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repo", default=os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    args = parser.parse_args()
    with open(os.path.join(args.directory, "models.json")) as f:
        manifest = json.load(f)
    ok = True
    with open(os.path.join(args.directory, "results.jsonl"), "w") as sink:
        for entry in manifest["models"]:
            ok = check_model(args.directory, entry, args.runs, args.warmup, args.repo,
                             sink) and ok
        for name in manifest.get("torch_only", []):
            # Models too large to carry here: PyTorch's times alone, next to
            # the smaller model of the same shapes that Kiln ran.
            record = {"model": name}
            try:
                sys.path.insert(0, os.path.join(args.repo, "python", "kiln_models"))
                import export_models
                feeds = export_models.MODELS[name].make_inputs(np.random.default_rng(0))
                record.update(torch_timings(name, feeds, args.runs, args.warmup, args.repo))
            except Exception as error:
                record["error"] = f"{type(error).__name__}: {error}"
            emit(record, sink)
        if manifest.get("gemm"):
            ok = check_gemm(args.directory, manifest["gemm"], max(5, args.runs // 4),
                            2, sink) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
