#!/usr/bin/env node
// The generation loop of bench/generate.c, run by ONNX Runtime
// (onnxruntime-node, CPU execution provider) on the same ONNX decoder:
//
//   node bench/ort_generate.js MODEL.onnx [--prefill S] [--past P]...
//                              [--steps N] [--threads T] [--runs R]
//   node bench/ort_generate.js MODEL.onnx --prompt ID,ID,... --generate N
//
// Each step feeds the greedy token and the previous step's present_*
// outputs back as past_* inputs. Prints the same JSON as generate.c:
// {"prefill_ms", "decode": [{"past", "tokens_per_s", "ms_per_token"}],
//  "peak_rss_mib"} (peak RSS of this node process, ORT included); with
// --prompt and --generate, {"tokens": [...]}: N greedy tokens after the
// prompt, as generate.c prints them.
'use strict';

const ort = require('onnxruntime-node');

function parse(argv) {
  const args = { prefill: 128, pasts: [], steps: 16, threads: 0, runs: 5 };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '--prefill') args.prefill = Number(argv[++i]);
    else if (a === '--past') args.pasts.push(Number(argv[++i]));
    else if (a === '--steps') args.steps = Number(argv[++i]);
    else if (a === '--threads') args.threads = Number(argv[++i]);
    else if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a === '--generate') args.generate = Number(argv[++i]);
    else if (a === '--prompt') args.prompt = argv[++i].split(',').map((t) => BigInt(t));
    else if (!args.model && !a.startsWith('-')) args.model = a;
    else {
      process.stderr.write('usage: ort_generate.js MODEL.onnx [--prefill S] ' +
                           '[--past P]... [--steps N] [--threads T] [--runs R]\n');
      process.exit(2);
    }
  }
  if (!args.model) {
    process.stderr.write('ort_generate: need MODEL.onnx\n');
    process.exit(2);
  }
  if (args.pasts.length === 0) args.pasts = [128, 512, 2048];
  return args;
}

async function main() {
  const args = parse(process.argv.slice(2));
  const options = {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
  };
  if (args.threads > 0) options.intraOpNumThreads = args.threads;
  const session = await ort.InferenceSession.create(args.model, options);
  const layers = session.inputNames.filter((n) => n.startsWith('past_key_')).length;
  // Heads and head_dim of the cache: the static dims of past_key_0.
  const key = session.inputMetadata.find((m) => m.name === 'past_key_0');
  const [, heads, , headDim] = key.shape;

  function randomCache(past) {
    const cache = [];
    let seed = 12345;
    for (let i = 0; i < 2 * layers; ++i) {
      const data = new Float32Array(heads * past * headDim);
      for (let e = 0; e < data.length; ++e) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        data[e] = (seed % 2001 - 1000) / 2000;
      }
      cache.push(new ort.Tensor('float32', data, [1, heads, past, headDim]));
    }
    return cache;
  }

  if (args.generate > 0) {
    let step = await run(session, layers, args.prompt, 0, randomCache(0));
    const tokens = [step.token];
    for (let t = 1; t < args.generate; ++t) {
      step = await run(session, layers, [step.token], args.prompt.length + t - 1,
                       step.presents);
      tokens.push(step.token);
    }
    process.stdout.write(JSON.stringify({ tokens: tokens.map(Number) }) + '\n');
    return;
  }

  // Prefill: S tokens after an empty cache.
  const vocab = session.outputMetadata.find((m) => m.name === 'logits').shape[2];
  const ids = [];
  for (let t = 0; t < args.prefill; ++t) {
    ids.push(BigInt((t * 7919 + 11) % Math.min(1000, vocab)));
  }
  const times = [];
  for (let r = 0; r <= args.runs; ++r) {
    const cache = randomCache(0);
    const start = process.hrtime.bigint();
    await run(session, layers, ids, 0, cache);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const measured = times.slice(1).sort((a, b) => a - b);
  const result = {
    prefill: args.prefill,
    prefill_ms: measured[Math.floor(args.runs / 2)],
    steps: args.steps,
    decode: [],
  };
  for (const past of args.pasts) {
    let cache = randomCache(past);
    let step = await run(session, layers, [1n], past, cache);
    cache = step.presents;
    const start = process.hrtime.bigint();
    for (let t = 0; t < args.steps; ++t) {
      step = await run(session, layers, [step.token], past + 1 + t, cache);
      cache = step.presents;
    }
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    result.decode.push({
      past,
      tokens_per_s: args.steps / (elapsed / 1e3),
      ms_per_token: elapsed / args.steps,
    });
  }
  result.peak_rss_mib = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify(result) + '\n');
}

// One step: `tokens` after `past` cache entries; returns the greedy token
// and the presents in past_key_0, past_value_0, ... order.
async function run(session, layers, tokens, past, cache) {
  const seq = tokens.length;
  const feeds = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens), [1, seq]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(past + seq).fill(1n),
                                   [1, past + seq]),
  };
  for (let l = 0; l < layers; ++l) {
    for (const [k, kind] of [[0, 'key'], [1, 'value']]) {
      feeds[`past_${kind}_${l}`] = cache[2 * l + k];
    }
  }
  const out = await session.run(feeds);
  const logits = out.logits;
  const vocab = logits.dims[2];
  const last = logits.data.subarray((seq - 1) * vocab, seq * vocab);
  let best = 0;
  for (let v = 1; v < vocab; ++v) if (last[v] > last[best]) best = v;
  const presents = [];
  for (let l = 0; l < layers; ++l) {
    presents.push(out[`present_key_${l}`], out[`present_value_${l}`]);
  }
  return { token: BigInt(best), presents };
}

main().catch((e) => {
  process.stderr.write(`ort_generate: ${e.message}\n`);
  process.exit(1);
});
