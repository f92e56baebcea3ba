#!/usr/bin/env node
// Run an ONNX model with ONNX Runtime (onnxruntime-node, CPU execution provider):
// write reference outputs as .npy files and/or time it.
//
//   node bench/ort_run.js MODEL.onnx --inputs INPUTS.npz|DIR [--output-dir DIR]
//                         [--bench N] [--warmup W] [--threads T] [--quiet]
//
//   --inputs      a directory of NAME.npy files (NAME = graph input name), or an
//                 .npz as written by python/kiln_models/export_models.py; an .npz is
//                 unpacked to a temporary directory with
//                 python/kiln_models/npz_tools.py (Python: $KILN_PYTHON, else
//                 /usr/bin/python3 if present, else python3; it needs numpy).
//   --output-dir  write each graph output to DIR/OUTPUT_NAME.npy (.npy v1.0, C order).
//   --bench N     after W warmup runs (default 3), time N runs and print one JSON line
//                 {"model","median_ms","min_ms","runs","threads","session_create_ms",...}.
//   --threads T   intra-op threads (default: all cores). Inter-op threads are 1
//                 (sequential execution), graph optimization level is 'all'.
//   --profile P   ONNX Runtime's own per-node profile of the runs, written as
//                 P_<date>.json (Chrome trace format; its path is printed on
//                 stderr): what to hold kiln-run --profile against.
//
// Supported tensor types: float32, float64, float16, int64, int32, int8, uint8, bool.
// Setup: cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci   (scripts/setup.sh does it).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  process.stderr.write(
    `ort_run: cannot load onnxruntime-node (${e.message}).\n` +
    `Install it with: (cd ${__dirname} && ONNXRUNTIME_NODE_INSTALL=skip npm ci)\n`);
  process.exit(2);
}

// ---------------------------------------------------------------------------
// .npy reader / writer
// ---------------------------------------------------------------------------

// ORT tensor type <-> numpy descr (without byte-order char) <-> typed array.
const DTYPES = [
  { ort: 'float32', np: 'f4', size: 4, Array: Float32Array },
  { ort: 'float64', np: 'f8', size: 8, Array: Float64Array },
  { ort: 'float16', np: 'f2', size: 2, Array: Uint16Array }, // raw IEEE half bits
  { ort: 'int64', np: 'i8', size: 8, Array: BigInt64Array },
  { ort: 'int32', np: 'i4', size: 4, Array: Int32Array },
  { ort: 'int8', np: 'i1', size: 1, Array: Int8Array },
  { ort: 'uint8', np: 'u1', size: 1, Array: Uint8Array },
  { ort: 'bool', np: 'b1', size: 1, Array: Uint8Array },
];
const BY_NP = new Map(DTYPES.map((d) => [d.np, d]));
const BY_ORT = new Map(DTYPES.map((d) => [d.ort, d]));
const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

function product(dims) {
  return dims.reduce((a, b) => a * b, 1);
}

function parseNpyHeader(header, file) {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${file}: cannot parse .npy header ${header.trim()}`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    const n = Number(s.replace(/L$/, ''));
    if (!Number.isInteger(n) || n < 0) throw new Error(`${file}: bad shape entry '${s}'`);
    return n;
  });
  return { descr: descr[1], fortran: fortran[1] === 'True', dims };
}

// Reorder a Fortran-order (column-major) array into C order.
function fortranToC(src, dims) {
  const n = src.length;
  const dst = new src.constructor(n);
  const rank = dims.length;
  const fStride = new Array(rank);
  let s = 1;
  for (let i = 0; i < rank; i++) { fStride[i] = s; s *= dims[i]; }
  const idx = new Array(rank).fill(0);
  for (let c = 0; c < n; c++) { // c walks C order; idx is its multi-index
    let f = 0;
    for (let i = 0; i < rank; i++) f += idx[i] * fStride[i];
    dst[c] = src[f];
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i] < dims[i]) break;
      idx[i] = 0;
    }
  }
  return dst;
}

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(NPY_MAGIC)) throw new Error(`${file}: not an .npy file`);
  const major = buf[6];
  let headerLen, headerStart;
  if (major === 1) { headerLen = buf.readUInt16LE(8); headerStart = 10; }
  else if (major === 2 || major === 3) { headerLen = buf.readUInt32LE(8); headerStart = 12; }
  else throw new Error(`${file}: unsupported .npy version ${major}.${buf[7]}`);
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', headerStart, headerStart + headerLen);
  const { descr, fortran, dims } = parseNpyHeader(header, file);
  const m = /^([<>|=]?)([a-z]\d+)$/.exec(descr);
  const dt = m && BY_NP.get(m[2]);
  if (!dt) throw new Error(`${file}: unsupported dtype '${descr}' (supported: ${DTYPES.map((d) => d.ort).join(', ')})`);
  const order = m[1];
  const bigEndian = order === '>' || (order === '=' && os.endianness() === 'BE');
  const count = product(dims);
  const dataStart = headerStart + headerLen;
  if (buf.length - dataStart < count * dt.size) {
    throw new Error(`${file}: truncated data (${buf.length - dataStart} bytes for ${count} x ${descr})`);
  }
  // Copy into a fresh, aligned buffer.
  const bytes = Buffer.from(buf.subarray(dataStart, dataStart + count * dt.size));
  if (bigEndian && dt.size > 1) {
    if (dt.size === 2) bytes.swap16(); else if (dt.size === 4) bytes.swap32(); else bytes.swap64();
  }
  let data = new dt.Array(bytes.buffer, bytes.byteOffset, count);
  if (fortran && dims.length > 1) data = fortranToC(data, dims);
  if (dt.ort === 'bool') data = data.map((v) => (v ? 1 : 0));
  return { type: dt.ort, dims, data };
}

function npyBytes(type, dims, data) {
  const dt = BY_ORT.get(type);
  if (!dt) throw new Error(`cannot write tensor of type '${type}' as .npy`);
  const descr = (dt.size === 1 ? '|' : '<') + dt.np;
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // Pad with spaces so magic(6) + version(2) + len(2) + header + '\n' is a multiple of 64.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  if (header.length > 0xffff) throw new Error('.npy header too long');
  const pre = Buffer.alloc(10);
  NPY_MAGIC.copy(pre, 0);
  pre[6] = 1; pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const count = product(dims);
  let arr = data;
  if (type === 'float16' && !(data instanceof Uint16Array)) {
    // A Float16Array (newer runtimes): its bytes are already IEEE half bits.
    arr = new Uint16Array(data.buffer, data.byteOffset, count);
  }
  if (type === 'bool') arr = Uint8Array.from(data, (v) => (v ? 1 : 0));
  if (arr.length !== count) throw new Error(`tensor data has ${arr.length} elements, shape [${dims}] needs ${count}`);
  let body = Buffer.from(arr.buffer, arr.byteOffset, count * dt.size);
  if (os.endianness() === 'BE' && dt.size > 1) {
    body = Buffer.from(body);
    if (dt.size === 2) body.swap16(); else if (dt.size === 4) body.swap32(); else body.swap64();
  }
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

// ---------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------

function findPython() {
  if (process.env.KILN_PYTHON) return process.env.KILN_PYTHON;
  if (fs.existsSync('/usr/bin/python3')) return '/usr/bin/python3';
  return 'python3';
}

// Returns { dir, cleanup } where dir holds NAME.npy files.
function inputsDir(spec) {
  const st = fs.statSync(spec);
  if (st.isDirectory()) return { dir: spec, cleanup: () => {} };
  if (!spec.endsWith('.npz')) throw new Error(`--inputs ${spec}: expected a directory of .npy files or an .npz`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ort_run-'));
  const tool = path.resolve(__dirname, '..', 'python', 'kiln_models', 'npz_tools.py');
  try {
    execFileSync(findPython(), [tool, 'unpack', '--quiet', spec, tmp], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`unpacking ${spec} with ${tool} failed (${e.message}); ` +
      'set KILN_PYTHON to a python with numpy, or pass a directory of .npy files');
  }
  return { dir: tmp, cleanup: () => fs.rmSync(tmp, { recursive: true, force: true }) };
}

function loadFeeds(session, dir) {
  const files = new Map();
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.npy')) files.set(f.slice(0, -4), path.join(dir, f));
  const meta = new Map((session.inputMetadata || []).map((m) => [m.name, m]));
  const feeds = {};
  const missing = [];
  for (const name of session.inputNames) {
    const file = files.get(name);
    if (!file) { missing.push(name); continue; }
    const t = readNpy(file);
    const m = meta.get(name);
    if (m && m.isTensor) {
      if (m.type && m.type !== t.type) throw new Error(`input '${name}': model wants ${m.type}, ${file} holds ${t.type}`);
      if (m.shape && m.shape.length > 0) {
        const ok = m.shape.length === t.dims.length &&
          m.shape.every((d, i) => typeof d !== 'number' || d < 0 || d === t.dims[i]);
        if (!ok) throw new Error(`input '${name}': model wants shape [${m.shape}], ${file} has [${t.dims}]`);
      }
    }
    feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  }
  if (missing.length) throw new Error(`no .npy in ${dir} for graph input(s): ${missing.join(', ')}`);
  const extra = [...files.keys()].filter((n) => !session.inputNames.includes(n));
  if (extra.length) process.stderr.write(`ort_run: ignoring arrays that are not graph inputs: ${extra.join(', ')}\n`);
  return feeds;
}

// ---------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------

const USAGE = 'usage: node bench/ort_run.js MODEL.onnx --inputs INPUTS.npz|DIR [--output-dir DIR] ' +
  '[--bench N] [--warmup W] [--threads T] [--profile PREFIX] [--quiet]';

function parseArgs(argv) {
  const a = { model: null, inputs: null, outputDir: null, bench: 0, warmup: 3, threads: 0, quiet: false, profile: null };
  const intArg = (flag, v, min) => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) throw new Error(`${flag} needs an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let val;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) { val = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    const next = () => (val !== undefined ? val : argv[++i]);
    switch (arg) {
      case '--inputs': a.inputs = next(); break;
      case '--output-dir': a.outputDir = next(); break;
      case '--bench': a.bench = intArg(arg, next(), 1); break;
      case '--warmup': a.warmup = intArg(arg, next(), 0); break;
      case '--threads': a.threads = intArg(arg, next(), 0); break;
      case '--profile': a.profile = next(); break;
      case '--quiet': case '-q': a.quiet = true; break;
      case '--help': case '-h': console.log(USAGE); process.exit(0); break;
      default:
        if (arg.startsWith('-') || a.model) throw new Error(`unexpected argument '${argv[i]}'`);
        a.model = arg;
    }
  }
  if (!a.model || !a.inputs) throw new Error('MODEL.onnx and --inputs are required');
  if (!a.outputDir && !a.bench) throw new Error('nothing to do: give --output-dir and/or --bench N');
  return a;
}

function ms(t0, t1) {
  return Number(t1 - t0) / 1e6;
}

function round(x) {
  return Math.round(x * 1000) / 1000;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`ort_run: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const threads = args.threads || cores;
  const options = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    logSeverityLevel: 3,
  };
  if (args.profile) {
    options.enableProfiling = true;
    options.profileFilePrefix = args.profile;
  }

  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(args.model, options);
  const sessionCreateMs = ms(t0, process.hrtime.bigint());

  const inp = inputsDir(args.inputs);
  let feeds;
  try {
    feeds = loadFeeds(session, inp.dir);
  } finally {
    inp.cleanup();
  }

  if (args.outputDir) {
    const results = await session.run(feeds);
    fs.mkdirSync(args.outputDir, { recursive: true });
    for (const name of session.outputNames) {
      const t = results[name];
      if (!t || t.location !== undefined && t.location !== 'cpu') throw new Error(`output '${name}' is not a CPU tensor`);
      if (/[\/\\]/.test(name) || name === '' || name === '.' || name === '..') {
        throw new Error(`output name '${name}' is not usable as a file name`);
      }
      const file = path.join(args.outputDir, `${name}.npy`);
      fs.writeFileSync(file, npyBytes(t.type, t.dims.map(Number), t.data));
      if (!args.quiet) process.stderr.write(`ort_run: wrote ${file} ${t.type} [${t.dims.join(', ')}]\n`);
    }
  }

  if (args.bench) {
    for (let i = 0; i < args.warmup; i++) await session.run(feeds);
    const times = [];
    for (let i = 0; i < args.bench; i++) {
      const s = process.hrtime.bigint();
      await session.run(feeds);
      times.push(ms(s, process.hrtime.bigint()));
    }
    const sorted = [...times].sort((x, y) => x - y);
    const n = sorted.length;
    const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    console.log(JSON.stringify({
      model: path.basename(args.model).replace(/\.onnx$/, ''),
      median_ms: round(median),
      min_ms: round(sorted[0]),
      runs: n,
      threads,
      session_create_ms: round(sessionCreateMs),
      mean_ms: round(times.reduce((x, y) => x + y, 0) / n),
      max_ms: round(sorted[n - 1]),
      warmup: args.warmup,
      ort_version: ort.env.versions && ort.env.versions.node,
    }));
  }
  if (args.profile) {
    const file = session.endProfiling();
    if (file) process.stderr.write(`ort_run: profile ${file}\n`);
  }
  await session.release();
  return 0;
}

if (require.main === module) {
  main().then((rc) => { process.exitCode = rc; }, (e) => {
    process.stderr.write(`ort_run: ${e && e.message ? e.message : e}\n`);
    process.exitCode = 1;
  });
}

module.exports = { readNpy, npyBytes };
