"""The policy's GRPO step written plainly in PyTorch: the reference `npm run bench -- torch` compares
the workbench against (what a researcher would use instead).

Same architecture and shapes as lib/model/network.ts: a per-patch MLP stem, a bidirectional
encoder over patches + query tokens, a decoder with causal self-attention, cross-attention in
which the G rollouts of a query are folded into the query axis, the gated position readout, a
GELU MLP and a tied output head. Same phases as bench/train.ts: sample (incremental decoding with
a KV cache, temperature 1), the reference model's log-probs (no grad), the GRPO loss forward +
backward (clipped ratio, k3 KL), and an AdamW step. Weights are random (an untrained policy, so
rollouts run to the full length, as in the workbench's bench).

Protocol: argv[1] is a JSON object of shapes and the thread count; after three warm-up steps the script
prints "ready <number of parameters>", then for every line "step" on stdin runs one step and prints one JSON line of
milliseconds per phase, so that the caller can interleave its own rounds with these.
"""

import json
import math
import sys
import time

import torch
import torch.nn.functional as F

WARMUP_STEPS = 3  # as bench/torch.ts warms the workbench up


class Block(torch.nn.Module):
    def __init__(self, d, heads, ffn, cross, readout):
        super().__init__()
        self.h = heads
        self.ln1 = torch.nn.LayerNorm(d)
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.attn_out = torch.nn.Linear(d, d)
        self.cross = cross
        self.readout = readout
        if cross:
            self.lnx = torch.nn.LayerNorm(d)
            self.xq = torch.nn.Linear(d, d)
            self.xkv = torch.nn.Linear(d, 2 * d)
            self.x_out = torch.nn.Linear(d, d)
            if readout:
                self.x_gate = torch.nn.Linear(d, 2)
        self.ln2 = torch.nn.LayerNorm(d)
        self.fc1 = torch.nn.Linear(d, ffn * d)
        self.fc2 = torch.nn.Linear(ffn * d, d)

    def heads(self, x):  # [N, L, d] -> [N, h, L, d/h]
        n, l, d = x.shape
        return x.view(n, l, self.h, d // self.h).transpose(1, 2)

    def merge(self, x):
        n, h, l, dh = x.shape
        return x.transpose(1, 2).reshape(n, l, h * dh)

    def attend(self, q, k, v, mask=None, causal=False):
        s = self.heads(q) @ self.heads(k).transpose(-1, -2) / math.sqrt(q.shape[-1] // self.h)
        if mask is not None:
            s = s + mask[:, None, None, :]
        if causal:  # query i (the last lq of lk positions) sees keys up to its own position
            lq, lk = q.shape[1], k.shape[1]
            allowed = torch.arange(lk)[None, :] <= torch.arange(lq)[:, None] + (lk - lq)
            s = s.masked_fill(~allowed, -1e9)
        return s.softmax(-1)

    def self_attn(self, x, mask, causal, cache=None):
        q, k, v = self.qkv(self.ln1(x)).chunk(3, -1)
        if cache is not None:
            if cache.get("k") is not None:
                k = torch.cat([cache["k"], k], 1)
                v = torch.cat([cache["v"], v], 1)
            cache["k"], cache["v"] = k, v
        p = self.attend(q, k, v, mask, causal)
        return x + self.attn_out(self.merge(p @ self.heads(v)))

    def cross_attn(self, x, mk, mv, mask, pos, group):
        n, t, d = x.shape
        b = n // group
        xn = self.lnx(x)
        q = self.xq(xn).reshape(b, group * t, d)
        p = self.attend(q, mk, mv, mask)  # [B, h, G·T, S]
        ctx = self.merge(p @ self.heads(mv)).reshape(n, t, d)
        out = self.x_out(ctx)
        if self.readout:
            where = p.mean(1) @ pos  # the attention-weighted position code, averaged over heads
            gate = torch.sigmoid(self.x_gate(xn))
            half = d // 2
            where = where.reshape(n, t, d)
            out = out + torch.cat([where[..., :half] * gate[..., :1], where[..., half:] * gate[..., 1:]], -1)
        return x + out

    def mlp(self, x):
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class Policy(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["dModel"]
        self.c = c
        pd = c["patchSize"] ** 2 * 3
        self.n_patches = (c["imageSize"] // c["patchSize"]) ** 2
        self.tok = torch.nn.Parameter(torch.randn(c["vocab"], d) * 0.02)
        self.query_pos = torch.nn.Parameter(torch.randn(c["maxQueryLen"], d) * 0.02)
        self.dec_pos = torch.nn.Parameter(torch.randn(c["maxCompletionLen"] + 1, d) * 0.02)
        self.type_emb = torch.nn.Parameter(torch.randn(2, d) * 0.02)
        self.stem = torch.nn.Linear(pd, c["stemHidden"])
        self.patch = torch.nn.Linear(c["stemHidden"], d)
        self.patch_pos = torch.nn.Parameter(torch.randn(self.n_patches, d) * 0.02)
        self.mem_pos = torch.randn(self.n_patches + c["maxQueryLen"], d) * 0.02
        f, h, r = c["ffnMult"], c["nHeads"], c["positionReadout"]
        self.enc = torch.nn.ModuleList([Block(d, h, f, False, r) for _ in range(c["nEncLayers"])])
        self.enc_ln = torch.nn.LayerNorm(d)
        self.dec = torch.nn.ModuleList([Block(d, h, f, True, r) for _ in range(c["nDecLayers"])])
        self.dec_ln = torch.nn.LayerNorm(d)

    def encode(self, patches, query, mask):
        img = self.patch(F.gelu(self.stem(patches))) + self.patch_pos + self.type_emb[0]
        qry = self.tok[query] + self.query_pos + self.type_emb[1]
        x = torch.cat([img, qry], 1)
        for blk in self.enc:
            x = blk.mlp(blk.self_attn(x, mask, False))
        x = self.enc_ln(x)
        return [blk.xkv(x).chunk(2, -1) for blk in self.dec]

    def decode(self, ids, kv, mask, group, t0=0, caches=None):
        x = self.tok[ids] + self.dec_pos[t0 : t0 + ids.shape[1]]
        for i, blk in enumerate(self.dec):
            x = blk.self_attn(x, None, True, caches[i] if caches is not None else None)
            x = blk.cross_attn(x, kv[i][0], kv[i][1], mask, self.mem_pos, group)
            x = blk.mlp(x)
        return self.dec_ln(x) @ self.tok.t()


def make_inputs(c, b):
    patches = torch.randn(b, (c["imageSize"] // c["patchSize"]) ** 2, c["patchSize"] ** 2 * 3)
    query = torch.randint(4, c["vocab"], (b, c["maxQueryLen"]))
    mask = torch.zeros(b, patches.shape[1] + c["maxQueryLen"])
    mask[:, -4:] = -1e9  # some query padding, as real queries have
    return patches, query, mask


@torch.no_grad()
def sample(policy, inputs, group, length, bos):
    kv = policy.encode(*inputs)
    n = inputs[0].shape[0] * group
    caches = [{} for _ in policy.dec]
    ids = torch.full((n, 1), bos, dtype=torch.long)
    out = []
    for t in range(length):
        logits = policy.decode(ids, kv, inputs[2], group, t, caches)[:, -1]
        ids = torch.multinomial(logits.softmax(-1), 1)
        out.append(ids)
    return torch.cat(out, 1)


def token_logprobs(policy, inputs, seqs, group, bos):
    kv = policy.encode(*inputs)
    inp = torch.cat([torch.full((seqs.shape[0], 1), bos, dtype=torch.long), seqs[:, :-1]], 1)
    logits = policy.decode(inp, kv, inputs[2], group)
    return logits.log_softmax(-1).gather(-1, seqs[..., None])[..., 0]


def main():
    c = json.loads(sys.argv[1])
    torch.manual_seed(1)
    torch.set_num_threads(c["threads"])
    policy, ref = Policy(c), Policy(c)
    ref.load_state_dict(policy.state_dict())
    opt = torch.optim.AdamW(policy.parameters(), lr=1e-4)
    b, g, t, bos = c["queries"], c["group"], c["maxLen"], 1
    inputs = make_inputs(c, b)

    def step():
        t0 = time.perf_counter()
        seqs = sample(policy, inputs, g, t, bos)
        t1 = time.perf_counter()
        adv = torch.randn(seqs.shape[0], 1)
        with torch.no_grad():
            ref_lp = token_logprobs(ref, inputs, seqs, g, bos)
        t2 = time.perf_counter()
        lp = token_logprobs(policy, inputs, seqs, g, bos)
        ratio = torch.exp(lp - lp.detach())
        pg = -torch.min(ratio * adv, ratio.clamp(0.8, 1.2) * adv)
        kl = torch.exp(ref_lp - lp) - (ref_lp - lp) - 1
        loss = (pg + 0.04 * kl).mean()
        opt.zero_grad()
        loss.backward()
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        ms = lambda a, z: round(1000 * (z - a), 3)
        return {
            "sample": ms(t0, t1),
            "ref": ms(t1, t2),
            "fwdbwd": ms(t2, t3),
            "optim": ms(t3, t4),
            "total": ms(t0, t4),
            "tokens": int(seqs.numel()),
        }

    for _ in range(WARMUP_STEPS):  # the first steps run slower (allocator, caches)
        step()
    print(f"ready {sum(p.numel() for p in policy.parameters())}", flush=True)
    for line in sys.stdin:
        if line.strip() == "step":
            print(json.dumps(step()), flush=True)


if __name__ == "__main__":
    main()
