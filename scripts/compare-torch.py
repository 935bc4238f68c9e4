#!/usr/bin/python3
"""Checks that a dlpipe vision model is the same network as its PyTorch twin.

Builds the nn.Module that the model's metadata describes (conv1, conv2, fc1, ... as in a hand-written
module such as ../shared/peers SeedCNN), loads the .safetensors weights with load_state_dict(strict=True),
runs it on test PNGs and compares the logits with dlpipe's own (from `dlpipe run` + write.jsonl).
Usage (Debian: apt-get install python3-torch; run with /usr/bin/python3):
    scripts/compare-torch.py [models/digits.safetensors] [data/mnist/test] [--count 100]
Exit 0 when max |logit difference| <= 1e-4."""
import argparse, json, os, struct, subprocess, sys, tempfile, zlib
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {k: torch.from_numpy(np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype="<f4")
                                   .reshape(v["shape"]).copy()) for k, v in header.items()}
    return tensors, meta

def read_png_gray8(path):
    """Minimal decoder for the 8-bit gray, non-interlaced PNGs dlpipe writes (scripts/fetch-data.sh)."""
    b = open(path, "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, w = 8, b"", 0
    while pos < len(b):
        n, kind = struct.unpack(">I4s", b[pos:pos + 8]); body = b[pos + 8:pos + 8 + n]; pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype == 0 and interlace == 0, f"{path}: not 8-bit gray"
        elif kind == b"IDAT": idat += body
    raw, rows, prev = zlib.decompress(idat), [], bytearray(w)
    for y in range(h):
        f, line = raw[y * (w + 1)], bytearray(raw[y * (w + 1) + 1:(y + 1) * (w + 1)])
        for x in range(w):
            a = line[x - 1] if x else 0; up = prev[x]; c = prev[x - 1] if x else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + up) & 255
            elif f == 3: line[x] = (line[x] + (a + up) // 2) & 255
            elif f == 4:
                p = a + up - c; pa, pb, pc = abs(p - a), abs(p - up), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else up if pb <= pc else c)) & 255
        rows.append(line); prev = line
    return np.array(rows, dtype=np.float32) / 255

class Twin(nn.Module):
    """The PyTorch module a dlpipe layer list describes, with the same parameter names."""
    def __init__(self, layers, input_shape, classes):
        super().__init__()
        c, h, w = input_shape; self.steps = []; nconv = nfc = nbn = 0; flat = False
        for spec in layers + [{"dense": {"units": classes, "activation": "none"}}]:
            kind, s = next(iter(spec.items()))
            if kind == "conv":
                nconv += 1; m = nn.Conv2d(c, s["filters"], s["size"], s["stride"], s["padding"]); setattr(self, f"conv{nconv}", m)
                h = (h + 2 * s["padding"] - s["size"]) // s["stride"] + 1; w = (w + 2 * s["padding"] - s["size"]) // s["stride"] + 1
                c = s["filters"]; self.steps.append((m, s["activation"]))
            elif kind in ("maxpool", "avgpool"):
                k = s["size"]; h //= k; w //= k
                self.steps.append(((lambda x, k=k: F.max_pool2d(x, k)) if kind == "maxpool" else (lambda x, k=k: F.avg_pool2d(x, k)), "none"))
            elif kind == "batchnorm":
                nbn += 1; m = (nn.BatchNorm1d if flat else nn.BatchNorm2d)(c if not flat else c); setattr(self, f"bn{nbn}", m)
                self.steps.append((m, "none"))
            elif kind == "dense":
                if not flat: self.steps.append((lambda x: x.flatten(1), "none")); flat = True; c = c * h * w
                nfc += 1; m = nn.Linear(c, s["units"]); setattr(self, f"fc{nfc}", m); c = s["units"]
                self.steps.append((m, s["activation"]))
            elif kind == "dropout":
                ndrop = getattr(self, "_ndrop", 0) + 1; self._ndrop = ndrop
                m = nn.Dropout(s["rate"]); setattr(self, f"dropout{ndrop}", m)   # registered, so eval() turns it off
                self.steps.append((m, "none"))
    def forward(self, x):
        acts = {"relu": F.relu, "leaky_relu": lambda t: F.leaky_relu(t, 0.01), "tanh": torch.tanh, "sigmoid": torch.sigmoid}
        for m, act in self.steps:
            x = m(x)
            if act in acts: x = acts[act](x)
        return x

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default="models/digits.safetensors")
    ap.add_argument("images", nargs="?", default="data/mnist/test")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--dlpipe", default=".build/release/dlpipe")
    a = ap.parse_args()
    tensors, meta = read_safetensors(a.model)
    layers, shape, classes = json.loads(meta["layers"]), json.loads(meta["input"]), json.loads(meta["classes"])
    net = Twin(layers, shape, len(classes))
    net.load_state_dict(tensors, strict=True)
    net.eval()
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(a.images) for f in fs if f.endswith(".png"))
    files = files[::max(1, len(files) // a.count)][:a.count]
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(f"{tmp}/in")
        for i, f in enumerate(files): os.symlink(os.path.abspath(f), f"{tmp}/in/{i:04d}.png")
        with open(f"{tmp}/p.conf", "w") as c:
            c.write(f"stages:\n  - read.png: {{path: in}}\n  - vision.classify: {{model: {os.path.abspath(a.model)}}}\n"
                    f"  - write.jsonl: {{path: out.jsonl}}\n")
        subprocess.run([a.dlpipe, "run", f"{tmp}/p.conf", "--quiet"], check=True)
        ours = {os.path.basename(json.loads(l)["file"]): json.loads(l)["logits"] for l in open(f"{tmp}/out.jsonl")}
    x = torch.from_numpy(np.stack([read_png_gray8(f) for f in files])[:, None])
    with torch.no_grad(): theirs = net(x).numpy()
    mine = np.array([ours[f"{i:04d}.png"] for i in range(len(files))], dtype=np.float32)
    diff = float(np.abs(mine - theirs).max())
    agree = float((mine.argmax(1) == theirs.argmax(1)).mean())
    print(f"torch {torch.__version__}: load_state_dict(strict=True) ok; {len(files)} images; "
          f"max |logit diff| = {diff:.2e}; same predicted class: {agree * 100:.1f} %")
    sys.exit(0 if diff <= 1e-4 else 1)

if __name__ == "__main__":
    main()
