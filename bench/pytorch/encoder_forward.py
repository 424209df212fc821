"""BERT-base-shaped encoder forward in plain torch.nn (eager attention, as transformers' BertModel
computes it), random weights, no grad. The Glassbox twin is `Glassbox.Bench encoder`.

usage: python3 bench/pytorch/encoder_forward.py --threads 2 [--repeats 10]
Needs Debian's python3-torch (apt-get install python3-torch); no transformers required.
"""
import argparse, math, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class Layer(nn.Module):
    def __init__(self, h=768, heads=12, ff=3072):
        super().__init__()
        self.heads, self.hd = heads, h // heads
        self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        self.fc1, self.fc2 = nn.Linear(h, ff), nn.Linear(ff, h)

    def forward(self, x, bias):
        b, s, h = x.shape
        split = lambda t: t.view(b, s, self.heads, self.hd).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.hd) + bias, dim=-1)
        z = (p @ v).transpose(1, 2).reshape(b, s, h)
        x = self.ln1(x + self.o(z))
        return self.ln2(x + self.fc2(F.gelu(self.fc1(x))))


class Encoder(nn.Module):
    def __init__(self, vocab=30522, h=768, layers=12):
        super().__init__()
        self.word, self.pos, self.token_type = nn.Embedding(vocab, h), nn.Embedding(512, h), nn.Embedding(2, h)
        self.ln = nn.LayerNorm(h, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(layers))

    def forward(self, ids, mask):
        s = ids.shape[1]
        x = self.ln(self.word(ids) + self.pos(torch.arange(s)) + self.token_type(torch.zeros_like(ids)))
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, bias)
        return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Encoder().eval()
    print(f"# PyTorch {torch.__version__} BERT-base encoder forward, {torch.get_num_threads()} thread(s), median of {a.repeats}")
    for b, s in [(8, 128), (50, 32)]:
        ids = torch.randint(1000, 30000, (b, s))
        mask = torch.ones(b, s, dtype=torch.long)
        with torch.inference_mode():
            for _ in range(2):
                model(ids, mask)
            times, cpu = [], []
            for _ in range(a.repeats):
                t, c = time.perf_counter(), time.process_time()
                model(ids, mask)
                times.append((time.perf_counter() - t) * 1000); cpu.append((time.process_time() - c) * 1000)
        times.sort(); cpu.sort()
        med, cmed = times[len(times) // 2], cpu[len(cpu) // 2]
        print(f"pytorch encoder batch={b} seq={s}: median {med:.1f} ms, best {times[0]:.1f} ms, {b * s / (med / 1000):.0f} tokens/s; "
              f"CPU {cmed:.1f} ms (all threads), {b * s / (cmed / 1000):.0f} tokens per CPU-second")


if __name__ == "__main__":
    main()
