"""Greedy generation at GPT-2-small shape with a KV cache, in plain torch (random weights).
Twin of `Glassbox.Bench generate`. usage: /usr/bin/python3 bench/pytorch/generation_gpt2.py --threads 2
"""
import argparse, math, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, h=768, heads=12):
        super().__init__()
        self.heads, self.hd = heads, h // heads
        self.ln1, self.ln2 = nn.LayerNorm(h), nn.LayerNorm(h)
        self.qkv, self.proj = nn.Linear(h, 3 * h), nn.Linear(h, h)
        self.fc, self.out = nn.Linear(h, 4 * h), nn.Linear(4 * h, h)

    def forward(self, x, cache):
        b, s, h = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(h, dim=-1)
        split = lambda t: t.view(b, s, self.heads, self.hd).transpose(1, 2)
        q, k, v = split(q), split(k), split(v)
        if cache is not None:
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        t = k.shape[2]
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.hd)
        mask = torch.ones(s, t, dtype=torch.bool).tril(t - s)
        scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
        z = (torch.softmax(scores, -1) @ v).transpose(1, 2).reshape(b, s, h)
        x = x + self.proj(z)
        return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh")), (k, v)


class Gpt2(nn.Module):
    def __init__(self, vocab=50257, h=768, layers=12, positions=1024):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, h), nn.Embedding(positions, h)
        self.blocks = nn.ModuleList(Block() for _ in range(layers))
        self.ln_f = nn.LayerNorm(h)

    def forward(self, ids, past, start):
        x = self.wte(ids) + self.wpe(torch.arange(start, start + ids.shape[1]))
        new = []
        for i, blk in enumerate(self.blocks):
            x, kv = blk(x, None if past is None else past[i])
            new.append(kv)
        return self.ln_f(x[:, -1]) @ self.wte.weight.T, new


def generate(model, ids, n):
    logits, past = model(ids, None, 0)
    out, pos = [], ids.shape[1]
    for _ in range(n):
        nxt = logits.argmax(-1, keepdim=True)
        out.append(int(nxt))
        logits, past = model(nxt, past, pos)
        pos += 1
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--new-tokens", type=int, default=32)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Gpt2().eval()
    ids = torch.tensor([[1000 + 37 * i for i in range(16)]])
    rates = []
    with torch.inference_mode():
        generate(model, ids, 4)
        for _ in range(a.repeats):
            t = time.perf_counter(); generate(model, ids, a.new_tokens); rates.append(a.new_tokens / (time.perf_counter() - t))
    rates.sort()
    print(f"pytorch {torch.__version__} generate gpt2-small shape, prompt 16, {a.new_tokens} new tokens, KV cache, {torch.get_num_threads()} thread(s): "
          f"median {rates[len(rates) // 2]:.1f} tokens/s, best {rates[-1]:.1f} tokens/s")


if __name__ == "__main__":
    main()
