#!/usr/bin/env python3
"""Dump a Hugging Face model's attention as an attnscope run file (docs/run-format.md, format_version 1).

For people with big models on their own GPUs: run the model where it fits, then open the run with attnscope.
Needs numpy and h5py; transformers (and torch) only for the command line, not for write_run().

    python3 dump_attention.py MODEL --prompt "The cat sat on the mat." --out story.attn.h5 [--device cuda]

The file holds what the contract requires of a run without Q/K: root attributes, /model, /tokens, full maps
/attention/probs (float16) and /stats computed from the maps as attnscope's capture computes them. Value norms are
unknown to output_attentions and stored as NaN. `attnscope-cli analyze RUN` adds the analyses afterwards.
"""
import argparse
import datetime

import h5py
import numpy as np

FORMAT_VERSION = 1


def _stats(p):
    """p: [L, H, T, T] float32 causal maps -> the /stats datasets (docs/run-format.md)."""
    T = p.shape[-1]
    received = p.sum(axis=2)                                   # column sums over queries
    alpha = received / (T - np.arange(T, dtype=np.float64))    # mean over the queries that can see each key
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=-1)
    return {
        "received": received.astype(np.float32),
        "alpha": alpha.astype(np.float32),
        "entropy": np.maximum(entropy, 0.0).astype(np.float32),
        "first_mass": p[..., 0].astype(np.float32),
        "top1": p.argmax(axis=-1).astype(np.int32),
    }


def write_run(path, attentions, pieces, ids=None, text=None, spans=None, architecture="hf", source="",
              n_kv_heads=None, head_dim=1, vocab_size=None, scale=0.0):
    """attentions: [L, H, T, T] (or a list of [H, T, T] / [1, H, T, T] per layer), rows summing to 1, causal.
    pieces: T token strings. ids, text, spans default to local ids (equal pieces share one) and the joined pieces."""
    p = np.stack([np.asarray(a, dtype=np.float32).reshape(np.shape(a)[-3:]) for a in attentions])
    L, H, T, _ = p.shape
    if len(pieces) != T:
        raise ValueError(f"{len(pieces)} pieces for attention over {T} tokens")
    if ids is None:
        first = {}
        ids = [first.setdefault(s, len(first)) for s in pieces]
    if text is None or spans is None:
        text, spans = "", []
        for s in pieces:
            spans.append((len(text.encode()), len(text.encode()) + len(s.encode())))
            text += s
    kv = n_kv_heads or H
    with h5py.File(path, "w", libver=("v110", "latest")) as f:
        f.attrs["format"] = "attnscope-run"
        f.attrs["format_version"] = np.int64(FORMAT_VERSION)
        f.attrs["created"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        f.attrs["producer"] = "attnscope dump_attention.py"
        m = f.create_group("model")
        m.attrs["architecture"] = architecture
        for key, value in (("n_layers", L), ("n_heads", H), ("n_kv_heads", kv), ("head_dim", head_dim),
                           ("vocab_size", vocab_size or (max(ids) + 1))):
            m.attrs[key] = np.int64(value)
        m.attrs["source"] = source
        m.attrs["weights_sha256"] = ""
        t = f.create_group("tokens")
        t.create_dataset("ids", data=np.asarray(ids, dtype=np.int32))
        t.create_dataset("pieces", data=list(pieces), dtype=h5py.string_dtype("utf-8"))
        t.create_dataset("spans", data=np.asarray(spans, dtype=np.int64).reshape(T, 2))
        t.create_dataset("text", data=text, dtype=h5py.string_dtype("utf-8"))
        t.create_dataset("generated", data=np.zeros(T, dtype=np.uint8))
        a = f.create_group("attention")
        a.attrs["scale"] = float(scale)
        side = min(T, 256)
        a.create_dataset("probs", data=p.astype(np.float16), chunks=(1, 1, side, side), shuffle=True,
                         compression="gzip", compression_opts=1, fletcher32=True)
        s = f.create_group("stats")
        for name, values in _stats(p).items():
            s.create_dataset(name, data=values)
        s.create_dataset("value_norm", data=np.full((L, kv, T), np.nan, dtype=np.float32))
        f.create_group("analysis")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="Hugging Face model name or folder")
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--out", required=True, help="run file to write (.attn.h5)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    args = ap.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(args.model)
    # Eager attention: fused kernels (SDPA, flash) never return the weights.
    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=getattr(torch, args.dtype),
                                                 attn_implementation="eager").to(args.device).eval()
    enc = tok(args.prompt, return_tensors="pt", return_offsets_mapping=tok.is_fast)
    ids = enc["input_ids"][0].tolist()
    with torch.no_grad():
        out = model(input_ids=enc["input_ids"].to(args.device), output_attentions=True)
    attentions = [a[0].float().cpu().numpy() for a in out.attentions]  # L x [H, T, T], batch element 0
    pieces = tok.convert_ids_to_tokens(ids)
    spans = enc["offset_mapping"][0].tolist() if tok.is_fast else None
    text = args.prompt if spans is not None else None
    if spans is not None:  # character offsets -> byte offsets into the UTF-8 text
        spans = [(len(text[:b].encode()), len(text[:e].encode())) for b, e in spans]
    c = model.config
    heads = c.num_attention_heads
    write_run(args.out, attentions, pieces, ids=ids, text=text, spans=spans,
              architecture=getattr(c, "model_type", "hf"), source=args.model,
              n_kv_heads=getattr(c, "num_key_value_heads", None) or heads,
              head_dim=getattr(c, "head_dim", None) or c.hidden_size // heads,
              vocab_size=c.vocab_size, scale=(getattr(c, "head_dim", None) or c.hidden_size // heads) ** -0.5)
    print(f"wrote {args.out}: {len(attentions)} layers x {heads} heads, {len(ids)} tokens")


if __name__ == "__main__":
    main()
