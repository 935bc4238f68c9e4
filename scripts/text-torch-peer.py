#!/usr/bin/python3
"""The PyTorch twin of dlpipe's text.train (pipelines/text-train.conf): embedding 64 → nn.LSTM 2 × 256 →
nn.Linear per step, truncated BPTT over 32 streams × 100 characters with the state carried, Adam 2e-3,
gradient norm clipped at 1. The vocabulary is every character of the training text, sorted, as dlpipe's.

  scripts/text-torch-peer.py --seconds 600 data/austen/train data/austen/test   # train for a wall-clock budget
  scripts/text-torch-peer.py --bench                                            # characters/s on random data

Prints RESULT lines: characters/s, steps, and held-out bits per character (state carried over 16 streams ×
256 characters, as dlpipe evaluates). Run with Debian's /usr/bin/python3 (python3-torch + OpenBLAS), 2 threads."""
import argparse, gzip, math, os, statistics, time
import torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(2)

class CharLSTM(nn.Module):
    def __init__(s, v, emb=64, hidden=256, layers=2):
        super().__init__(); s.emb1 = nn.Embedding(v, emb); s.lstm = nn.LSTM(emb, hidden, layers, batch_first=True); s.fc1 = nn.Linear(hidden, v)
    def forward(s, x, state=None):
        out, state = s.lstm(s.emb1(x), state); return s.fc1(out), state

def read_texts(path):
    files = [path] if os.path.isfile(path) else sorted(os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs)
    return [(gzip.open if f.endswith(".gz") else open)(f, "rt", encoding="utf-8").read() for f in files]

def streams(ids, n, window, offset=0):
    """[n, length] contiguous parts, read `window` at a time (inputs and targets shifted by one)."""
    per = (len(ids) - offset - 1) // n
    t = torch.tensor(ids[offset:offset + n * per + 1])
    x = torch.stack([t[i * per:(i + 1) * per] for i in range(n)]); y = torch.stack([t[i * per + 1:(i + 1) * per + 1] for i in range(n)])
    return [(x[:, k:k + window], y[:, k:k + window]) for k in range(0, per - window + 1, window)]

def step(m, opt, x, y, state):
    opt.zero_grad()
    logits, state = m(x, state)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)); loss.backward()
    nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step()
    return loss.item(), tuple(s.detach() for s in state)

def bits_per_char(m, ids):
    m.eval(); nats, n, state = 0.0, 0, None
    with torch.no_grad():
        for x, y in streams(ids, 16, 256):
            logits, state = m(x, state)
            nats += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item(); n += y.numel()
    m.train(); return nats / n / math.log(2)

def main():
    ap = argparse.ArgumentParser(); ap.add_argument("train", nargs="?"); ap.add_argument("test", nargs="?")
    ap.add_argument("--seconds", type=float, default=60); ap.add_argument("--bench", action="store_true"); a = ap.parse_args()
    torch.manual_seed(1)
    print(f"torch {torch.__version__} threads={torch.get_num_threads()}")
    if a.bench:
        m = CharLSTM(80); opt = torch.optim.Adam(m.parameters(), 2e-3)
        x = torch.randint(0, 80, (32, 100)); y = torch.randint(0, 80, (32, 100)); ts = []; state = None
        for s in range(8):
            t = time.perf_counter(); _, state = step(m, opt, x, y, state)
            if s >= 2: ts.append(time.perf_counter() - t)
        print(f"RESULT model=char-lstm2x256 step_ms={statistics.median(ts) * 1e3:.1f} chars_per_s={3200 / statistics.median(ts):.0f}")
        return
    train = "".join(read_texts(a.train)); test = "".join(read_texts(a.test))
    chars = sorted(set(train)); index = {c: i for i, c in enumerate(chars)}
    ids = [index[c] for c in train]; test_ids = [index[c] for c in test if c in index]
    m = CharLSTM(len(chars)); opt = torch.optim.Adam(m.parameters(), 2e-3)
    t0 = time.perf_counter(); done, epoch = 0, 0
    while time.perf_counter() - t0 < a.seconds:
        state = None
        for x, y in streams(ids, 32, 100, offset=epoch % 100):
            loss, state = step(m, opt, x, y, state); done += x.numel()
            if time.perf_counter() - t0 >= a.seconds: break
        epoch += 1
    secs = time.perf_counter() - t0
    print(f"RESULT model=char-lstm2x256 train_seconds={secs:.0f} chars_trained={done} chars_per_s={done / secs:.0f} "
          f"test_bits_per_char={bits_per_char(m, test_ids):.4f}", flush=True)

if __name__ == "__main__":
    main()
