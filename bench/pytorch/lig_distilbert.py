"""Layer integrated gradients on the word embeddings of a DistilBERT-base-shaped classifier, as
transformers-interpret runs it through Captum: 50 Gauss-Legendre steps in one batch, the
interpolated embedding output replacing the layer's output, parameters left requiring grad (so
autograd also computes weight gradients, as it does under transformers-interpret).
The Glassbox twin is `Glassbox.Bench lig`.

usage: /usr/bin/python3 bench/pytorch/lig_distilbert.py --threads 2 [--repeats 3] [--no-weight-grads]
"""
import argparse, math, resource, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, h=768, heads=12, ff=3072):
        super().__init__()
        self.heads, self.hd = heads, h // heads
        self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        self.fc1, self.fc2 = nn.Linear(h, ff), nn.Linear(ff, h)

    def forward(self, x, bias):
        b, s, h = x.shape
        split = lambda t: t.view(b, s, self.heads, self.hd).transpose(1, 2)
        q, k, v = split(self.q(x)) / math.sqrt(self.hd), split(self.k(x)), split(self.v(x))
        p = torch.softmax(q @ k.transpose(-1, -2) + bias, dim=-1)
        x = self.ln1(x + self.o((p @ v).transpose(1, 2).reshape(b, s, h)))
        return self.ln2(x + self.fc2(F.gelu(self.fc1(x))))


class Classifier(nn.Module):
    def __init__(self, vocab=30522, h=768, layers=6):
        super().__init__()
        self.word, self.pos = nn.Embedding(vocab, h), nn.Embedding(512, h)
        self.ln = nn.LayerNorm(h, eps=1e-12)
        self.blocks = nn.ModuleList(Block() for _ in range(layers))
        self.pre, self.cls = nn.Linear(h, h), nn.Linear(h, 2)

    def forward_from_word_embeddings(self, e, mask):
        s = e.shape[1]
        x = self.ln(e + self.pos(torch.arange(s)))
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for blk in self.blocks:
            x = blk(x, bias)
        return torch.softmax(self.cls(F.relu(self.pre(x[:, 0]))), -1)


def lig(model, ids, base_ids, target, steps):
    x, x0 = model.word(ids).detach(), model.word(base_ids).detach()
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    alphas = torch.tensor(0.5 * (nodes + 1), dtype=torch.float32)[:, None, None]
    w = torch.tensor(0.5 * weights, dtype=torch.float32)[:, None, None]
    scaled = (x0 + alphas * (x - x0)).requires_grad_(True)
    mask = torch.ones(steps, ids.shape[1], dtype=torch.long)
    out = model.forward_from_word_embeddings(scaled, mask)[:, target]
    (grads,) = torch.autograd.grad(out.sum(), scaled)
    return ((x - x0) * (grads * w).sum(0, keepdim=True)).sum(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--no-weight-grads", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Classifier().eval()
    if a.no_weight_grads:
        for p in model.parameters():
            p.requires_grad_(False)
    ids = torch.randint(1000, 30000, (1, a.tokens)); ids[0, 0], ids[0, -1] = 101, 102
    base = ids.clone(); base[0, 1:-1] = 0
    lig(model, ids, base, 1, a.steps)
    times, cpu = [], 0.0
    for _ in range(a.repeats):
        t, c = time.perf_counter(), time.process_time()
        lig(model, ids, base, 1, a.steps)
        times.append((time.perf_counter() - t) * 1000); cpu += (time.process_time() - c) * 1000
    times.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"pytorch lig steps={a.steps} tokens={a.tokens} threads={torch.get_num_threads()} weight_grads={not a.no_weight_grads}: "
          f"median {times[len(times) // 2]:.0f} ms, best {times[0]:.0f} ms, CPU {cpu / a.repeats:.0f} ms per explanation, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
