#!/usr/bin/python3
"""A judge of generated digits that shares nothing with dlpipe: the peers' PyTorch seed CNN
(../shared/peers/torch_models.py) trained on MNIST-5k's 4,000 training digits as the peers train it (Adam 1e-3,
batch 32, 10 epochs, torch seed 0), its accuracy on the 1,000 held-out digits printed, then its mean
max-probability and class fractions on a folder of sample PNGs (gan.sample's, or the Keras peer's).
Needs PyTorch (Debian: python3-torch; run with /usr/bin/python3) and PIL.
Usage: scripts/gan-independent-judge.py SAMPLES_FOLDER [--mnist-csv data/mnist_5k.csv.gz] [--epochs 10] [--json OUT]"""
import argparse, gzip, json, os, sys
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image

class SeedCNN(nn.Module):  # as ../shared/peers/torch_models.py
    def __init__(s):
        super().__init__()
        s.conv1 = nn.Conv2d(1, 32, 3); s.conv2 = nn.Conv2d(32, 64, 3)
        s.fc1 = nn.Linear(64 * 5 * 5, 64); s.fc2 = nn.Linear(64, 10)
    def forward(s, x):
        x = F.max_pool2d(F.relu(s.conv1(x)), 2); x = F.max_pool2d(F.relu(s.conv2(x)), 2)
        return s.fc2(F.relu(s.fc1(x.flatten(1))))

def mnist5k(path):
    """The peers' split: per class, the first 400 occurrences train, the rest test."""
    rows = np.loadtxt(gzip.open(path), delimiter=",", dtype=np.float32)
    x, y = rows[:, :784] / 255.0, rows[:, 784].astype(np.int64)
    train, test = [], []
    for c in range(10):
        idx = np.nonzero(y == c)[0]; train += list(idx[:400]); test += list(idx[400:])
    tr, te = np.array(sorted(train)), np.array(sorted(test))
    return (x[tr].reshape(-1, 1, 28, 28), y[tr]), (x[te].reshape(-1, 1, 28, 28), y[te])

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("samples"); ap.add_argument("--mnist-csv", default="data/mnist_5k.csv.gz")
    ap.add_argument("--epochs", type=int, default=10); ap.add_argument("--json")
    a = ap.parse_args()
    torch.manual_seed(0)
    (xtr, ytr), (xte, yte) = mnist5k(a.mnist_csv)
    xtr, ytr, xte, yte = map(torch.tensor, (xtr, ytr, xte, yte))
    model = SeedCNN(); opt = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(a.epochs):
        model.train(); perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 32):
            b = perm[i:i + 32]; opt.zero_grad(); F.cross_entropy(model(xtr[b]), ytr[b]).backward(); opt.step()
    model.eval()
    with torch.no_grad(): accuracy = (model(xte).argmax(1) == yte).float().mean().item()
    files = sorted(f for f in os.listdir(a.samples) if f.endswith(".png") and f.startswith("sample-"))
    if not files: sys.exit(f"gan-independent-judge: no sample-*.png in {a.samples}")
    x = torch.tensor(np.stack([np.asarray(Image.open(os.path.join(a.samples, f)).convert("L"), dtype=np.float32) / 255 for f in files])[:, None])
    with torch.no_grad(): p = torch.softmax(model(x), 1)
    labels = p.argmax(1); fractions = [(labels == c).float().mean().item() for c in range(10)]
    result = {"judge": "PyTorch seed CNN, MNIST-5k train", "judge_test_accuracy": round(accuracy, 4), "samples": len(files),
              "mean_max_probability": round(p.max(1).values.mean().item(), 4),
              "class_fractions": {str(c): round(f, 4) for c, f in enumerate(fractions)}}
    print(f"independent judge (test accuracy {accuracy * 100:.1f} %): {len(files)} samples, mean max-probability "
          f"{result['mean_max_probability']:.3f}, classes {min(fractions) * 100:.1f}–{max(fractions) * 100:.1f} %")
    if a.json:
        with open(a.json, "w") as f: json.dump(result, f, indent=1)

if __name__ == "__main__":
    main()
