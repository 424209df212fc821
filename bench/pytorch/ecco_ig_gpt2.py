"""Ecco's generate-with-attributions at GPT-2-small shape, in plain torch (random weights).
Twin of `Glassbox.Bench lm-attribute`: greedy generation of 6 tokens after a 20-token prompt (KV
cache), then for every generated token integrated gradients on the token embeddings (Ecco's
inputs_embeds): Captum's 50-step Gauss-Legendre rule, zero baseline, all steps in one batch,
target = the generated token's softmax probability at the last position, gradients taken with
torch.autograd.grad as Captum does (no weight gradients), the convergence-delta forward on the zero
baseline, Ecco's L2 normalisation; then the final forward with every layer's hidden state.
usage: /usr/bin/python3 bench/pytorch/ecco_ig_gpt2.py --threads 2
"""
import argparse, os, resource, sys, time
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generation_gpt2 import Gpt2, generate  # noqa: E402  (same model as the generation benchmark)


def last_logits(model, embeds):
    """Logits at the last position for token embeddings [b, s, h] (position embeddings added here)."""
    x = embeds + model.wpe(torch.arange(embeds.shape[1]))
    for blk in model.blocks:
        x, _ = blk(x, None)
    return model.ln_f(x[:, -1]) @ model.wte.weight.T


def hidden_states(model, ids):
    x = model.wte(ids) + model.wpe(torch.arange(ids.shape[1]))
    states = []
    for blk in model.blocks:
        x, _ = blk(x, None)
        states.append(x)
    return states, model.ln_f(x)


def integrated_gradients(model, ids, target, steps):
    x, w = np.polynomial.legendre.leggauss(steps)
    alphas = torch.tensor(0.5 * (1 + x), dtype=torch.float32)
    weights = torch.tensor(0.5 * w, dtype=torch.float32)
    with torch.no_grad():
        embeds = model.wte(ids)                                   # [1, s, h]
        p_input = torch.softmax(last_logits(model, embeds), -1)[0, target]
        p_zero = torch.softmax(last_logits(model, torch.zeros_like(embeds)), -1)[0, target]
    scaled = (alphas[:, None, None] * embeds[0]).requires_grad_(True)  # [steps, s, h]
    probs = torch.softmax(last_logits(model, scaled), -1)
    (grads,) = torch.autograd.grad(probs[:, target].sum(), scaled)
    attr = embeds[0] * (weights[:, None, None] * grads).sum(0)         # [s, h]
    delta = float(attr.sum() - (p_input - p_zero))
    norms = attr.norm(dim=-1)
    return (norms / norms.sum()).detach(), delta


def analyse(model, prompt, new_tokens, steps):
    with torch.no_grad():
        generated = generate(model, prompt, new_tokens)
    seq = torch.cat([prompt, torch.tensor([generated])], 1)
    rows, deltas = [], []
    for g, target in enumerate(generated):
        row, delta = integrated_gradients(model, seq[:, : prompt.shape[1] + g], target, steps)
        rows.append(row); deltas.append(delta)
    with torch.no_grad():
        hidden_states(model, seq[:, :-1])                        # Ecco's final forward (logit lens)
    return generated, rows, deltas


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--new-tokens", type=int, default=6)
    ap.add_argument("--prompt", type=int, default=20)
    ap.add_argument("--steps", type=int, default=50)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Gpt2().eval()   # parameters keep requires_grad, as in Ecco; autograd.grad computes input gradients only
    with torch.no_grad():   # GPT-2's initialisation (normal, std 0.02; layer norms 1 and 0), as the Glassbox side
        for name, p in model.named_parameters():
            if "ln" in name:
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            else:
                p.normal_(0.0, 0.02)
    prompt = torch.tensor([[1000 + 37 * i for i in range(a.prompt)]])
    analyse(model, prompt, 1, 4)  # warm-up
    walls, cpus = [], []
    for r in range(a.repeats):
        t, c = time.perf_counter(), time.process_time()
        generated, rows, deltas = analyse(model, prompt, a.new_tokens, a.steps)
        walls.append(time.perf_counter() - t); cpus.append(time.process_time() - c)
        assert len(rows) == a.new_tokens and all(abs(float(x.sum()) - 1) < 1e-3 for x in rows)
        print(f"  run {r + 1}: wall {walls[-1]:.2f} s, CPU {cpus[-1]:.2f} s, tokens {generated}, max |convergence delta| {max(abs(d) for d in deltas):.2e}")
    walls.sort(); cpus.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"pytorch {torch.__version__} lm-attribute gpt2-small shape, prompt {a.prompt}, {a.new_tokens} new tokens, IG {a.steps} steps "
          f"(Gauss-Legendre, one batch) per token, {torch.get_num_threads()} thread(s): median wall {walls[len(walls) // 2]:.2f} s, "
          f"median CPU {cpus[len(cpus) // 2]:.2f} s, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
