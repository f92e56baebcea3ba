# Lit configuration of Kiln's regression tests.
import os
import shutil

import lit.formats

config.name = "Kiln"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "Inputs", "unit"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_obj_root, "test")

# Kiln's tools first, then LLVM's (FileCheck, not, split-file).
config.environment["PATH"] = os.pathsep.join(
    [config.kiln_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
)
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%kiln_src", config.kiln_src_root))
config.substitutions.append(("%kiln_bin", config.kiln_tools_dir))
# The kiln Python package as built (PYTHONPATH=%kiln_python); sanitizer
# builds have none.
config.substitutions.append(
    ("%kiln_python", os.path.join(config.kiln_obj_root, "python")))
if os.path.isfile(os.path.join(config.kiln_obj_root, "python", "kiln", "__init__.py")):
    config.available_features.add("kiln-python")

# Models exported by torch take seconds to build; tests that need torch say so.
if shutil.which(config.python_executable):
    import subprocess

    probe = subprocess.run(
        [config.python_executable, "-c",
         "import torch, torchvision, onnx, sklearn"],
        capture_output=True,
    )
    if probe.returncode == 0:
        config.available_features.add("torch")

# ONNX Runtime (npm onnxruntime-node, installed by scripts/setup.sh) gives
# reference outputs for the model tests.
if shutil.which("node") and os.path.isdir(
    os.path.join(config.kiln_src_root, "bench", "node_modules", "onnxruntime-node")
):
    config.available_features.add("onnxruntime")

# The HTML compile report draws with Graphviz; a headless Chromium renders
# it (both from scripts/setup.sh).
if shutil.which("dot"):
    config.available_features.add("graphviz")
if shutil.which("chromium"):
    config.available_features.add("chromium")

# A sanitizer build (-DKILN_SANITIZE=...): its tools also link the
# sanitizer runtime's dependencies.
cache = os.path.join(config.kiln_obj_root, "CMakeCache.txt")
if os.path.isfile(cache):
    with open(cache) as f:
        for line in f:
            if line.startswith("KILN_SANITIZE:") and line.strip().split("=", 1)[1]:
                config.available_features.add("sanitizers")

# The CUDA toolkit (ptxas, libdevice) compiles and checks kernels of the
# cuda target; the driver and a GPU run them.
cuda_root = os.environ.get("CUDA_PATH", "/usr/local/cuda")
ptxas = os.path.join(cuda_root, "bin", "ptxas")
if os.access(ptxas, os.X_OK) and os.path.isdir(
    os.path.join(cuda_root, "nvvm", "libdevice")
):
    config.available_features.add("cuda-toolkit")
    config.substitutions.append(("%ptxas", ptxas))
try:
    import ctypes

    ctypes.CDLL("libcuda.so.1")
    config.available_features.add("cuda-driver")
    if shutil.which("nvidia-smi"):
        import subprocess

        if subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0:
            config.available_features.add("cuda-device")
except OSError:
    pass

# In CI every test runs: a missing feature is a broken setup, not a reason
# to skip the tests that need it.
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    missing = sorted({"torch", "onnxruntime"} - set(config.available_features))
    if missing:
        lit_config.fatal(
            "CI is set but lit features are missing: %s. 'torch' needs "
            "torch, torchvision, onnx and sklearn importable by %s; 'onnxruntime' "
            "needs node and bench/node_modules/onnxruntime-node "
            "(scripts/setup.sh installs both)"
            % (", ".join(missing), config.python_executable))
