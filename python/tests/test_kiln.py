"""Tests of the kiln Python package on real models (pytest; scripts/test.sh
runs them with PYTHONPATH=<build>/python).

ResNet-50 and a BERT-style encoder are exported by
python/kiln_models/export_models.py (torch, random weights), compiled with
kiln.compile and compared with ONNX Runtime's outputs (bench/ort_run.js).
"""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import kiln

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """name -> (onnx path, inputs dict, ONNX Runtime outputs dict)."""
    directory = tmp_path_factory.mktemp("models")
    names = ["resnet50", "bert_encoder"]
    subprocess.run([PYTHON, os.path.join(REPO, "python/kiln_models/export_models.py"),
                    str(directory), "--only", *names],
                   check=True, capture_output=True)
    result = {}
    for name in names:
        inputs = dict(np.load(directory / f"{name}.inputs.npz"))
        expected_dir = directory / f"{name}.expected"
        subprocess.run(["node", os.path.join(REPO, "bench/ort_run.js"),
                        str(directory / f"{name}.onnx"), "--inputs",
                        str(directory / f"{name}.inputs.npz"), "--output-dir",
                        str(expected_dir), "--quiet"], check=True, capture_output=True)
        expected = {f[:-4]: np.load(expected_dir / f) for f in os.listdir(expected_dir)}
        result[name] = (str(directory / f"{name}.onnx"), inputs, expected)
    return result


@pytest.fixture(scope="module")
def compiled(models):
    return {name: kiln.compile(path) for name, (path, _, _) in models.items()}


@pytest.mark.parametrize("name", ["resnet50", "bert_encoder"])
def test_matches_onnxruntime(models, compiled, name):
    _, inputs, expected = models[name]
    outputs = compiled[name].run(inputs)
    assert set(outputs) == set(expected)
    for output, value in outputs.items():
        np.testing.assert_allclose(value, expected[output], rtol=1e-3, atol=1e-4)


def test_bad_feeds_raise_the_tools_messages(models, compiled):
    model = compiled["resnet50"]
    image = models["resnet50"][1]["input"]
    with pytest.raises(kiln.RunError, match=r"input 'input' must have shape "
                       r"\[1, 3, 224, 224\], got \[1, 3, 224, 112\] \(dim 3\)"):
        model.run({"input": image[..., :112]})
    with pytest.raises(kiln.RunError, match="the model has no input named 'image'"):
        model.run({"image": image})
    with pytest.raises(kiln.RunError, match="takes 1 inputs, got 2"):
        model.run([image, image])
    with pytest.raises(kiln.CompileError, match="kiln.compile: error: "):
        kiln.compile(models["resnet50"][0], quantize="int3")


def test_four_threads_at_once(models, compiled):
    model = compiled["bert_encoder"]
    _, inputs, expected = models["bert_encoder"]
    errors = []

    def work():
        try:
            for _ in range(3):
                out = model.run(inputs)["last_hidden_state"]
                np.testing.assert_allclose(out, expected["last_hidden_state"],
                                           rtol=1e-3, atol=1e-4)
        except Exception as error:  # reported below, from the main thread
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_sparsity_option(tmp_path):
    """sparsity= is --sparsity: "auto" and "off" compute the same product,
    "2:4" masks the weights (the outputs follow the masked model), and a bad
    value raises the tool's message."""
    subprocess.run([PYTHON, os.path.join(REPO, "python/kiln_models/sparse_models.py"),
                    str(tmp_path), "--m", "9", "--k", "64", "--n", "96"],
                   check=True, capture_output=True)
    path = tmp_path / "sparse_ffn.onnx"
    x = np.load(tmp_path / "sparse_ffn.inputs" / "x.npy")
    dense = np.load(tmp_path / "sparse_ffn.expected" / "y.npy")
    masked = np.load(tmp_path / "sparse_ffn.expected24" / "y.npy")
    for sparsity, expected in (("auto", dense), ("off", dense), ("2:4", masked)):
        y = kiln.compile(path, sparsity=sparsity).run({"x": x})["y"]
        np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
    with pytest.raises(kiln.CompileError, match="--sparsity: unknown value '1:1'"):
        kiln.compile(path, sparsity="1:1")


def test_prune_budget(tmp_path):
    """prune= with calibration_data reports the output SQNR against the
    unpruned model; prune_budget= scales the ratio down until it is met."""
    import json
    subprocess.run([PYTHON, os.path.join(REPO, "python/kiln_models/sparse_models.py"),
                    str(tmp_path), "--m", "9", "--k", "64", "--n", "96", "--zeros", "0"],
                   check=True, capture_output=True)
    path = tmp_path / "sparse_ffn.onnx"
    x = np.load(tmp_path / "sparse_ffn.inputs" / "x.npy")
    full, budget = tmp_path / "full.json", tmp_path / "budget.json"
    kiln.compile(path, prune="ffn:0.5", calibration_data=[{"x": x}], report=full)
    kiln.compile(path, prune="ffn:0.5", calibration_data=[{"x": x}],
                 prune_budget=40, report=budget)
    full, budget = json.load(open(full)), json.load(open(budget))
    assert full["prune_output_sqnr_db"] < 40
    assert budget["prune_output_sqnr_db"] >= 40 and 0 <= budget["prune_scale"] < 1


def test_sequences_and_optionals(tmp_path):
    """A sequence input is a list of arrays and a sequence output comes back
    as one; an optional is an array or None (python/kiln_models/
    sequence_models.py; the expected values are numpy's)."""
    import onnx
    from onnx import numpy_helper
    subprocess.run([PYTHON, os.path.join(REPO, "python/kiln_models/sequence_models.py"),
                    str(tmp_path)], check=True, capture_output=True)

    def read(path, cls):
        proto = cls()
        with open(path, "rb") as f:
            proto.ParseFromString(f.read())
        return proto

    data = tmp_path / "map" / "test_data_set_0"
    items = [numpy_helper.to_array(t) for t in
             read(data / "input_0.pb", onnx.SequenceProto).tensor_values]
    w = numpy_helper.to_array(read(data / "input_1.pb", onnx.TensorProto))
    model = kiln.compile(tmp_path / "map.onnx")
    assert [(i.name, i.kind, i.shape) for i in model.inputs] == [
        ("items", "sequence", (None, None)), ("w", "tensor", (4,))]
    out = model.run({"items": items, "w": w})
    assert [a.shape for a in out["out"]] == [(2, 4), (5, 4), (1, 4)]
    for got, item in zip(out["out"], items):
        np.testing.assert_allclose(got, item * w + w, rtol=1e-6)
    np.testing.assert_allclose(out["all"], np.concatenate([i * w + w for i in items]),
                               rtol=1e-6)
    assert all(np.array_equal(a, b) for a, b in zip(out["same"], items))
    with pytest.raises(kiln.RunError, match="is a sequence: give a list of arrays"):
        model.run({"items": items[0], "w": w})

    optional = kiln.compile(tmp_path / "optional.onnx")
    assert (optional.inputs[0].kind, optional.inputs[0].holds) == ("optional", "tensor")
    value = np.array([1, 2, 3], np.float32)
    present = optional.run({"maybe": value})
    np.testing.assert_array_equal(present["y"], value + 1)
    assert bool(present["has"])
    empty = optional.run({"maybe": None})
    np.testing.assert_array_equal(empty["y"], [-1, -2, -3])
    assert not bool(empty["has"])
