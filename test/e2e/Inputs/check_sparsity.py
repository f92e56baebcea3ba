"""Prints what a compile report says about sparsity: the N:M masks applied
(kiln-sparsify) and each product's kernel choice with its reason, and
whether the block share it measured is the one the model was built with."""
import json
import sys

report = json.load(open(sys.argv[1]))
built = json.load(open(sys.argv[2])) if len(sys.argv) > 2 else None
for entry in report["passes"]:
    for s in entry.get("sparsified", []):
        print(f"sparsified {s['nodes'][0]}: {s['zeroed']} of {s['of']}")
for choice in report.get("sparsity", []):
    print(f"kernel {choice['nodes'][0]}: {choice['kernel']}: {choice['reason']}")
    if built and choice["nodes"][0] == "ffn_in":
        print("blocks as built:",
              abs(choice["zero_blocks"] - built["zero_blocks"]) < 1e-9)
