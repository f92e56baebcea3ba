#!/usr/bin/env python3
"""Export the ONNX test models used to exercise Kiln's ONNX frontend.

Every model is built in plain PyTorch (torchvision for the two CNNs) with
random weights -- no pretrained checkpoints, no network access -- and exported
with ``torch.onnx.export`` in eval mode, with constant folding, explicit
input/output names and fixed static input shapes (a model whose spec names
dynamic_axes gets symbolic dims there).  For each model NAME the script
writes:

  OUTDIR/NAME.onnx         the exported model (a single file, no external data)
  OUTDIR/NAME.inputs.npz   random inputs, keyed by graph input name

Reference outputs are deliberately *not* computed here; a separate tool runs
the models on these inputs.

Weights are PyTorch's default random initialisation, with two adjustments so
the models are useful for numerical checks: LayerNorm/BatchNorm scales and
shifts are randomised (instead of 1 and 0), and the CNNs' BatchNorm running
statistics are calibrated on a few random batches (see calibrate_batchnorm).
Everything is seeded per model, so output is reproducible and independent of
--only.

Models:

  resnet50      torchvision resnet50, input [1,3,224,224]
  mobilenet_v2  torchvision mobilenet_v2, input [1,3,224,224]
  bert_encoder  small BERT-style encoder (hidden 256, 4 layers, 4 heads),
                inputs input_ids int64 [1,128], attention_mask f32 [1,1,1,128]
  mha_block     hand-written 8-head self-attention, input [1,1024,512]
  gpt2_block    GPT-2-style causal decoder block, input [1,256,256]
  gpt2_block_768  the GPT-2 block at GPT-2 small's width (hidden 768, 12
                heads), input [1,256,768]
  gemm_1024, gemm_bert_ffn, gemv_4096, gemv_768x3072, gemv_3072x768
                one MatMul with a constant weight: 1024x1024x1024,
                128x768x3072 (BERT-base's FFN), 1x4096x4096, and a GPT-2-small
                decode step's MLP products 1x768x3072 and 1x3072x768
  mha_block_4096  mha_block at sequence length 4096, input [1,4096,512]
                (its 8x4096x4096 attention scores are 512 MiB if materialized)
  bert_encoder_dynamic  bert_encoder's architecture with symbolic batch and
                sequence dims ("batch", "seq") on both inputs and the output;
                default inputs at [1,128]
  bert_base     the BERT encoder at BERT-base size (~420 MB); exported last

Usage:

  /usr/bin/python3 export_models.py OUTDIR [--only NAME ...] [--opset N]
                                           [--seed S] [--list]

Each exported model is validated with onnx.checker (full_check).  For each
model the script prints the file size, the opset, the build and export times
and a histogram of the op types in the main graph.  It exits non-zero if any
model failed to export.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import traceback
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import onnx
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

DEFAULT_OPSET = 17
DEFAULT_SEED = 0

# Value written into masked-out attention scores.  Finite on purpose: the
# additive BERT mask and the GPT-2 causal mask both use it, matching the
# original BERT / GPT-2 implementations, and it keeps every value finite.
MASK_VALUE = -10000.0


# ---------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention written out op by op.

    Q/K/V are separate Linear layers; heads are split with view + transpose,
    scores are softmax(Q K^T / sqrt(d) + mask) and the heads are merged back
    with transpose + reshape before the output projection.

    Args:
        hidden: model width; must be divisible by ``heads``.
        heads: number of attention heads.
        causal_len: if set, a lower-triangular [causal_len, causal_len] mask
            (``torch.tril``) is registered as a constant buffer and future
            positions are filled with MASK_VALUE (GPT-2 style).  The input
            sequence length must then equal ``causal_len``.
    """

    def __init__(self, hidden: int, heads: int, causal_len: int | None = None):
        super().__init__()
        if hidden % heads != 0:
            raise ValueError(f"hidden {hidden} not divisible by heads {heads}")
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)
        if causal_len is not None:
            tril = torch.tril(torch.ones(causal_len, causal_len, dtype=torch.bool))
            self.register_buffer("causal_mask", tril.view(1, 1, causal_len, causal_len))
        else:
            self.causal_mask = None

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        # [B, S, hidden] -> [B, heads, S, head_dim]
        b, s, _ = x.shape
        return x.view(b, s, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor | None = None) -> torch.Tensor:
        b, s, hidden = x.shape
        q = self._split_heads(self.query(x))
        k = self._split_heads(self.key(x))
        v = self._split_heads(self.value(x))

        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        if additive_mask is not None:
            scores = scores + additive_mask  # broadcast [B,1,1,S] over heads/rows
        if self.causal_mask is not None:
            scores = scores.masked_fill(~self.causal_mask, MASK_VALUE)
        probs = torch.softmax(scores, dim=-1)

        ctx = torch.matmul(probs, v)                       # [B, heads, S, head_dim]
        ctx = ctx.transpose(1, 2).reshape(b, s, hidden)   # [B, S, hidden]
        return self.out(ctx)


def gelu_tanh(x: torch.Tensor) -> torch.Tensor:
    """GELU, tanh approximation, spelled out so it exports as elementwise ops."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


# ---------------------------------------------------------------------------
# BERT-style encoder
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BertConfig:
    """Size of the BERT-style encoder.  Defaults are BERT-base."""

    vocab_size: int = 30522
    hidden: int = 768
    layers: int = 12
    heads: int = 12
    intermediate: int = 3072
    max_positions: int = 512
    seq_len: int = 128
    layer_norm_eps: float = 1e-12


# The small encoder used for correctness tests, and the full-size one used to
# time import.
BERT_SMALL = BertConfig(hidden=256, layers=4, heads=4, intermediate=1024)
BERT_BASE = BertConfig()
# BERT-base's layer shapes with one layer and a small vocabulary: 36 MB of
# weights instead of 418, for machines a model must be copied to
# (bench/gpu_check.sh).
BERT_BASE_1LAYER = BertConfig(vocab_size=2048, layers=1)


class BertLayer(nn.Module):
    """Post-LayerNorm transformer encoder layer (attention + GELU FFN)."""

    def __init__(self, cfg: BertConfig):
        super().__init__()
        self.attention = MultiHeadSelfAttention(cfg.hidden, cfg.heads)
        self.attention_norm = nn.LayerNorm(cfg.hidden, eps=cfg.layer_norm_eps)
        self.ffn_in = nn.Linear(cfg.hidden, cfg.intermediate)
        self.ffn_out = nn.Linear(cfg.intermediate, cfg.hidden)
        self.ffn_norm = nn.LayerNorm(cfg.hidden, eps=cfg.layer_norm_eps)

    def forward(self, x: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        x = self.attention_norm(x + self.attention(x, attention_mask))
        ffn = self.ffn_out(F.gelu(self.ffn_in(x)))  # erf-form GELU
        return self.ffn_norm(x + ffn)


class BertEncoder(nn.Module):
    """Token + position embeddings, LayerNorm, then ``cfg.layers`` BertLayers.

    Inputs: input_ids int64 [B, S]; attention_mask float32 [B, 1, 1, S],
    additive (0 for tokens to attend to, a large negative value for padding).
    Output: the last hidden state, float32 [B, S, hidden].
    """

    def __init__(self, cfg: BertConfig):
        super().__init__()
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.hidden)
        self.position_embedding = nn.Embedding(cfg.max_positions, cfg.hidden)
        self.embedding_norm = nn.LayerNorm(cfg.hidden, eps=cfg.layer_norm_eps)
        self.layers = nn.ModuleList(BertLayer(cfg) for _ in range(cfg.layers))
        self.register_buffer("position_ids", torch.arange(cfg.max_positions).unsqueeze(0))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        seq_len = input_ids.shape[1]
        positions = self.position_ids[:, :seq_len]
        x = self.token_embedding(input_ids) + self.position_embedding(positions)
        x = self.embedding_norm(x)
        for layer in self.layers:
            x = layer(x, attention_mask)
        return x


def bert_inputs(cfg: BertConfig, rng: np.random.Generator, batch: int = 1,
                seq_len: Optional[int] = None) -> Dict[str, np.ndarray]:
    """Random token ids plus an additive mask that pads out the sequence tail.

    ``seq_len`` defaults to ``cfg.seq_len``.  Each batch row gets its own
    number of padded slots; with batch 1 the draws from ``rng`` are exactly
    those of the original single-sequence version.
    """
    seq_len = cfg.seq_len if seq_len is None else seq_len
    if not 2 <= seq_len <= cfg.max_positions:
        raise ValueError(f"seq_len {seq_len} outside [2, {cfg.max_positions}]")
    ids = rng.integers(0, cfg.vocab_size, size=(batch, seq_len), dtype=np.int64)
    mask = np.zeros((batch, 1, 1, seq_len), dtype=np.float32)
    for row in range(batch):
        valid = int(rng.integers(seq_len // 2, seq_len))  # a few padded slots
        mask[row, ..., valid:] = MASK_VALUE
    return {"input_ids": ids, "attention_mask": mask}


# ---------------------------------------------------------------------------
# Attention / decoder blocks
# ---------------------------------------------------------------------------


class MHABlock(nn.Module):
    """Bare multi-head self-attention block (no mask, no residual)."""

    def __init__(self, hidden: int = 512, heads: int = 8):
        super().__init__()
        self.attention = MultiHeadSelfAttention(hidden, heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attention(x)


class GPT2Block(nn.Module):
    """Pre-LayerNorm GPT-2 decoder block with causal attention and tanh-GELU MLP."""

    def __init__(self, hidden: int = 256, heads: int = 4, seq_len: int = 256):
        super().__init__()
        self.ln_1 = nn.LayerNorm(hidden, eps=1e-5)
        self.attention = MultiHeadSelfAttention(hidden, heads, causal_len=seq_len)
        self.ln_2 = nn.LayerNorm(hidden, eps=1e-5)
        self.mlp_in = nn.Linear(hidden, 4 * hidden)
        self.mlp_out = nn.Linear(4 * hidden, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.ln_1(x))
        return x + self.mlp_out(gelu_tanh(self.mlp_in(self.ln_2(x))))


class MatMulWeight(nn.Module):
    """x @ W with a constant [k, n] weight: the GEMM microbenchmarks."""

    def __init__(self, k: int, n: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(k, n) / math.sqrt(k))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.matmul(x, self.weight)


# ---------------------------------------------------------------------------
# Random-weight conditioning
# ---------------------------------------------------------------------------


def randomize_norm_affine(model: nn.Module) -> None:
    """Give every LayerNorm / BatchNorm a non-trivial scale and shift.

    Freshly initialised norms have weight 1 and bias 0, which would hide bugs
    in how a compiler applies them, and the exporter deduplicates the
    identical tensors into Identity nodes.
    """
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.LayerNorm, nn.BatchNorm2d)) and module.weight is not None:
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0.0, 0.1)


def calibrate_batchnorm(model: nn.Module, input_shape, batches: int = 2, batch_size: int = 4) -> None:
    """Set BatchNorm running statistics from a few random batches.

    With the default running stats (mean 0, var 1) eval-mode BatchNorm does
    not normalise, and random-weight CNNs then produce vanishing or exploding
    outputs (mobilenet_v2 gives logits around 1e-9), which makes numerical
    comparison of compiled results meaningless.
    """
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(batch_size, *input_shape[1:]))
    for bn in bns:
        bn.momentum = 0.1
    model.eval()


# ---------------------------------------------------------------------------
# Model registry
# ---------------------------------------------------------------------------


def normal_inputs(name: str, shape) -> Callable[[np.random.Generator], Dict[str, np.ndarray]]:
    """An input factory producing one standard-normal float32 tensor."""
    return lambda rng: {name: rng.standard_normal(shape, dtype=np.float32)}


@dataclass(frozen=True)
class ModelSpec:
    """How to build one model and its inputs."""

    build: Callable[[], nn.Module]
    make_inputs: Callable[[np.random.Generator], Dict[str, np.ndarray]]  # name -> array, in arg order
    output_names: List[str]
    # Input shape for BatchNorm calibration; None for models without BatchNorm.
    calibration_shape: Optional[Tuple[int, ...]] = None
    # torch.onnx.export's dynamic_axes: input/output name -> {axis: symbolic
    # dim name}.  None exports every shape static.
    dynamic_axes: Optional[Dict[str, Dict[int, str]]] = None


# Insertion order is export order: bert_base is last because it is by far the
# largest and slowest.
MODELS: Dict[str, ModelSpec] = {
    "resnet50": ModelSpec(
        build=lambda: torchvision.models.resnet50(weights=None),
        make_inputs=normal_inputs("input", (1, 3, 224, 224)),
        output_names=["logits"],
        calibration_shape=(1, 3, 224, 224),
    ),
    "mobilenet_v2": ModelSpec(
        build=lambda: torchvision.models.mobilenet_v2(weights=None),
        make_inputs=normal_inputs("input", (1, 3, 224, 224)),
        output_names=["logits"],
        calibration_shape=(1, 3, 224, 224),
    ),
    "bert_encoder": ModelSpec(
        build=lambda: BertEncoder(BERT_SMALL),
        make_inputs=lambda rng: bert_inputs(BERT_SMALL, rng),
        output_names=["last_hidden_state"],
    ),
    "mha_block": ModelSpec(
        build=lambda: MHABlock(hidden=512, heads=8),
        make_inputs=normal_inputs("x", (1, 1024, 512)),
        output_names=["y"],
    ),
    "gpt2_block": ModelSpec(
        build=lambda: GPT2Block(hidden=256, heads=4, seq_len=256),
        make_inputs=normal_inputs("x", (1, 256, 256)),
        output_names=["y"],
    ),
    "gpt2_block_768": ModelSpec(
        build=lambda: GPT2Block(hidden=768, heads=12, seq_len=256),
        make_inputs=normal_inputs("x", (1, 256, 768)),
        output_names=["y"],
    ),
    "gemm_1024": ModelSpec(
        build=lambda: MatMulWeight(1024, 1024),
        make_inputs=normal_inputs("x", (1024, 1024)),
        output_names=["y"],
    ),
    "gemm_bert_ffn": ModelSpec(
        build=lambda: MatMulWeight(768, 3072),
        make_inputs=normal_inputs("x", (128, 768)),
        output_names=["y"],
    ),
    "gemv_4096": ModelSpec(
        build=lambda: MatMulWeight(4096, 4096),
        make_inputs=normal_inputs("x", (1, 4096)),
        output_names=["y"],
    ),
    # A GPT-2-small decode step's MLP products.
    "gemv_768x3072": ModelSpec(
        build=lambda: MatMulWeight(768, 3072),
        make_inputs=normal_inputs("x", (1, 768)),
        output_names=["y"],
    ),
    "gemv_3072x768": ModelSpec(
        build=lambda: MatMulWeight(3072, 768),
        make_inputs=normal_inputs("x", (1, 3072)),
        output_names=["y"],
    ),
    "mha_block_4096": ModelSpec(
        build=lambda: MHABlock(hidden=512, heads=8),
        make_inputs=normal_inputs("x", (1, 4096, 512)),
        output_names=["y"],
    ),
    "bert_encoder_dynamic": ModelSpec(
        build=lambda: BertEncoder(BERT_SMALL),
        make_inputs=lambda rng: bert_inputs(BERT_SMALL, rng),
        output_names=["last_hidden_state"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "seq"},
            "attention_mask": {0: "batch", 3: "seq"},
            "last_hidden_state": {0: "batch", 1: "seq"},
        },
    ),
    "bert_base_1layer": ModelSpec(
        build=lambda: BertEncoder(BERT_BASE_1LAYER),
        make_inputs=lambda rng: bert_inputs(BERT_BASE_1LAYER, rng),
        output_names=["last_hidden_state"],
    ),
    "bert_base": ModelSpec(
        build=lambda: BertEncoder(BERT_BASE),
        make_inputs=lambda rng: bert_inputs(BERT_BASE, rng),
        output_names=["last_hidden_state"],
    ),
}


# ---------------------------------------------------------------------------
# Export and reporting
# ---------------------------------------------------------------------------


def export_model(name: str, spec: ModelSpec, outdir: Path, opset: int,
                 seed: int, keep_batchnorm: bool = False) -> Tuple[Path, float, float]:
    """Build, export and save inputs for one model.

    Returns the .onnx path, the build time (construction plus BatchNorm
    calibration) and the torch.onnx.export time, in seconds.
    """
    # Seed per model so a model's weights and inputs do not depend on which
    # other models were selected with --only.
    model_seed = seed ^ zlib.crc32(name.encode())
    torch.manual_seed(model_seed)
    rng = np.random.default_rng(model_seed)

    start = time.perf_counter()
    model = spec.build()
    randomize_norm_affine(model)
    if spec.calibration_shape is not None:
        calibrate_batchnorm(model, spec.calibration_shape)
    model.eval()
    build_s = time.perf_counter() - start
    inputs = spec.make_inputs(rng)
    np.savez(outdir / f"{name}.inputs.npz", **inputs)

    path = outdir / f"{name}.onnx"
    args = tuple(torch.from_numpy(a) for a in inputs.values())
    start = time.perf_counter()
    with torch.no_grad():
        torch.onnx.export(
            model,
            args,
            str(path),
            export_params=True,
            opset_version=opset,
            do_constant_folding=True,
            input_names=list(inputs),
            output_names=spec.output_names,
            dynamic_axes=spec.dynamic_axes,
            # The exporter folds eval-mode BatchNorm into the preceding Conv;
            # PRESERVE keeps it (as inference BatchNormalization, the model
            # being in eval mode) so that compilers' own folding is tested.
            training=(torch.onnx.TrainingMode.PRESERVE if keep_batchnorm
                      else torch.onnx.TrainingMode.EVAL),
        )
    return path, build_s, time.perf_counter() - start


def describe(path: Path) -> str:
    """Check an exported model and summarise it: size, opset, op histogram."""
    # Path-based check: works for any size and also parses with C++ protobuf.
    onnx.checker.check_model(str(path), full_check=True)
    model = onnx.load(str(path), load_external_data=False)
    external = [t.name for t in model.graph.initializer
                if t.data_location == onnx.TensorProto.EXTERNAL]
    if external:
        raise RuntimeError(f"{path.name}: {len(external)} initializers use external data")
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    hist = Counter(node.op_type for node in model.graph.node)
    ops = " ".join(f"{op}:{n}" for op, n in sorted(hist.items(), key=lambda kv: (-kv[1], kv[0])))
    size_mb = path.stat().st_size / 2**20
    return (f"  size {size_mb:.1f} MiB, opset {opset}, ir_version {model.ir_version}, "
            f"{len(model.graph.node)} nodes, {len(model.graph.initializer)} initializers\n"
            f"  ops: {ops}")


def parse_args(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Export Kiln's ONNX test models (random weights) with torch.onnx.export.")
    parser.add_argument("outdir", type=Path, nargs="?", help="directory to write NAME.onnx / NAME.inputs.npz into")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=list(MODELS),
                        help="export only these models (default: all)")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET,
                        help=f"ONNX opset to export with (default {DEFAULT_OPSET})")
    parser.add_argument("--keep-batchnorm", action="store_true",
                        help="keep BatchNormalization nodes (the exporter "
                             "folds them into Conv by default)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"base seed for weights and inputs (default {DEFAULT_SEED})")
    parser.add_argument("--list", action="store_true", help="list the model names and exit")
    args = parser.parse_args(argv)
    if not args.list and args.outdir is None:
        parser.error("OUTDIR is required")
    return args


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    if args.list:
        print("\n".join(MODELS))
        return 0

    args.outdir.mkdir(parents=True, exist_ok=True)
    # Keep the registry's order (bert_base last) whatever order --only used.
    names = [n for n in MODELS if args.only is None or n in args.only]
    failures = []
    for name in names:
        print(f"== {name}", flush=True)
        try:
            path, build_s, export_s = export_model(name, MODELS[name], args.outdir,
                                                   args.opset, args.seed,
                                                   args.keep_batchnorm)
            print(f"  {path}: build {build_s:.1f} s, export {export_s:.1f} s")
            print(describe(path), flush=True)
        except Exception:  # report and carry on with the other models
            traceback.print_exc()
            failures.append(name)

    if failures:
        print(f"FAILED: {' '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
