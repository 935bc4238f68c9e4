#!/usr/bin/python3
"""Checks that a dlpipe model is the same network as its PyTorch twin.

Builds the nn.Module that the model's metadata describes (conv1, conv2, fc1, lstm, emb1, ... as in a
hand-written module such as ../shared/peers SeedCNN or an nn.LSTM classifier), loads the .safetensors
weights with load_state_dict(strict=True), runs it on test inputs and compares the logits with dlpipe's own:
  - image classifiers (vision.train): test PNGs through `dlpipe run` + write.jsonl;
  - sequence classifiers (sequence.train): audio clips; dlpipe writes their MFCCs (write.features) and its
    logits (write.jsonl), the twin gets the same features, normalised per clip as the model file says;
  - character models (text.train): the first --chars characters of a text; dlpipe's logits for every one
    come from text.generate's `logits` output.
Usage (Debian: apt-get install python3-torch; run with /usr/bin/python3):
    scripts/compare-torch.py [models/digits.safetensors] [data/mnist/test] [--count 100]
    scripts/compare-torch.py models/speech.safetensors data/speech/test --features "sample_rate: 8000 | audio.trim: {top_db: 30} | audio.mfcc: {n_mfcc: 20, n_fft: 256, hop_length: 80, n_mels: 40}"
    scripts/compare-torch.py models/austen.safetensors data/austen/test/northangerabbey.txt.gz
    scripts/compare-torch.py models/gan.safetensors      # generator and discriminator (gan.sample's tensors output)
An ensemble's file (sequence.train members: N) is compared member by member, averaged as dlpipe averages.
Exit 0 when max |logit difference| <= 1e-4."""
import argparse, gzip, json, os, struct, subprocess, sys, tempfile, zlib
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
    """The PyTorch module a dlpipe layer list describes, with the same parameter names (conv1, convt1, bn1,
    fc1, emb1, ...). Model files of format dlpipe.model hold the whole list; dlpipe.vision.v1 files imply
    the output layer."""
    def __init__(self, layers, input_shape):
        super().__init__()
        shape = list(input_shape); self.steps = []; count = {}
        def name(prefix):
            count[prefix] = count.get(prefix, 0) + 1; return f"{prefix}{count[prefix]}"
        def act(s, default):
            kind = s.get("activation", default); slope = s.get("slope", 0.01)
            return {"relu": F.relu, "leaky_relu": lambda t: F.leaky_relu(t, slope), "tanh": torch.tanh,
                    "sigmoid": torch.sigmoid}.get(kind, lambda t: t)
        for spec in layers:
            kind, s = next(iter(spec.items()))
            if not isinstance(s, dict): s = {"size": s} if kind in ("maxpool", "avgpool") else {"rate": s} if kind == "dropout" else {}
            if kind == "conv":
                c, h, w = shape; st, pd = s.get("stride", 1), s.get("padding", 0)
                m = nn.Conv2d(c, s["filters"], s["size"], st, pd, bias=s.get("bias", True)); setattr(self, name("conv"), m)
                shape = [s["filters"], (h + 2 * pd - s["size"]) // st + 1, (w + 2 * pd - s["size"]) // st + 1]
                self.steps.append((m, act(s, "relu")))
            elif kind == "conv_transpose":
                c, h, w = shape; st, pd, op = s.get("stride", 1), s.get("padding", 0), s.get("output_padding", 0)
                m = nn.ConvTranspose2d(c, s["filters"], s["size"], st, pd, op, bias=s.get("bias", True)); setattr(self, name("convt"), m)
                shape = [s["filters"], (h - 1) * st - 2 * pd + s["size"] + op, (w - 1) * st - 2 * pd + s["size"] + op]
                self.steps.append((m, act(s, "none")))
            elif kind == "conv1d":
                # A sequence [T, C]: nn.Conv1d on [C, T], transposed there and back.
                t, c = shape; st, pd = s.get("stride", 1), s.get("padding", 0)
                m = nn.Conv1d(c, s["filters"], s["size"], st, pd, bias=s.get("bias", True)); setattr(self, name("conv1d_"), m)
                shape = [max(1, (t + 2 * pd - s["size"]) // st + 1), s["filters"]]
                self.steps.append((lambda x, m=m: m(x.transpose(1, 2)).transpose(1, 2), act(s, "relu")))
            elif kind in ("maxpool", "avgpool"):
                k = s["size"]; shape = [shape[0], shape[1] // k, shape[2] // k]
                self.steps.append(((lambda x, k=k: F.max_pool2d(x, k)) if kind == "maxpool" else (lambda x, k=k: F.avg_pool2d(x, k)), act({}, "none")))
            elif kind == "batchnorm":
                m = (nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d)(shape[0]); setattr(self, name("bn"), m)
                self.steps.append((m, act({}, "none")))
            elif kind == "dense" and len(shape) == 2:
                # A sequence [T, F]: nn.Linear on the last axis, at every step.
                m = nn.Linear(shape[1], s["units"], bias=s.get("bias", True)); setattr(self, name("fc"), m); shape = [shape[0], s["units"]]
                self.steps.append((m, act(s, "relu")))
            elif kind == "dense":
                if len(shape) != 1: self.steps.append((lambda x: x.flatten(1), act({}, "none"))); shape = [int(np.prod(shape))]
                m = nn.Linear(shape[0], s["units"], bias=s.get("bias", True)); setattr(self, name("fc"), m); shape = [s["units"]]
                self.steps.append((m, act(s, "relu")))
            elif kind in ("lstm", "gru"):
                cell = nn.LSTM if kind == "lstm" else nn.GRU; bi = s.get("bidirectional", False)
                m = cell(shape[1], s["hidden"], num_layers=s.get("layers", 1), batch_first=True, bidirectional=bi)
                n = name(kind); setattr(self, kind if n == kind + "1" else n, m)
                seq = s.get("sequence", False); width = s["hidden"] * (2 if bi else 1)
                shape = [shape[0], width] if seq else [width]
                def last(x, m=m, bi=bi):
                    # The final state: h_n of the last layer, forward then backward when bidirectional.
                    hn = m(x)[1]; hn = hn[0] if isinstance(hn, tuple) else hn
                    return torch.cat([hn[-2], hn[-1]], -1) if bi else hn[-1]
                self.steps.append(((lambda x, m=m: m(x)[0]) if seq else last, act({}, "none")))
            elif kind == "dropout":
                m = nn.Dropout(s["rate"]); setattr(self, name("dropout"), m)   # registered, so eval() turns it off
                self.steps.append((m, act({}, "none")))
            elif kind == "activation":
                self.steps.append((lambda x: x, act({"activation": s["kind"], "slope": s.get("slope", 0.01)}, "none")))
            elif kind == "mean_over_time":
                # dlpipe averages each sequence over its own frames; compare-torch runs one clip at a time.
                self.steps.append((lambda x: x.mean(1), act({}, "none"))); shape = [shape[1]]
            elif kind == "flatten":
                self.steps.append((lambda x: x.flatten(1), act({}, "none"))); shape = [int(np.prod(shape))]
            elif kind == "reshape":
                new = list(s["shape"]); self.steps.append((lambda x, new=new: x.reshape([x.shape[0]] + new), act({}, "none"))); shape = new
            elif kind == "embedding":
                m = nn.Embedding(s["vocabulary"], s["size"]); setattr(self, name("emb"), m)
                self.steps.append((lambda x, m=m: m(x.long()), act({}, "none"))); shape = [shape[0], s["size"]]
            else:
                raise SystemExit(f"compare-torch: layer kind '{kind}' is not known to this script")
    def forward(self, x):
        for m, f in self.steps: x = f(m(x))
        return x

def normalise_per_clip(x):
    """dlpipe's per-clip normalisation (Plugins/Sequence/FeatureNormalization.swift): zero mean, unit
    variance per feature over the frames, the deviation floored at 1e-3."""
    x = x.astype(np.float64); mean = x.mean(0); sd = np.maximum(np.sqrt(np.maximum((x * x).mean(0) - mean * mean, 0)), 1e-3)
    return ((x - mean) / sd).astype(np.float32)

def compare(mine, theirs, what):
    diff = float(np.abs(mine - theirs).max())
    agree = float((mine.argmax(-1) == theirs.argmax(-1)).mean())
    print(f"torch {torch.__version__}: load_state_dict(strict=True) ok; {what}; "
          f"max |logit diff| = {diff:.2e}; same most likely output: {agree * 100:.1f} %")
    sys.exit(0 if diff <= 1e-4 else 1)

def run(dlpipe, conf, tmp):
    with open(f"{tmp}/p.conf", "w") as c: c.write(conf)
    subprocess.run([dlpipe, "run", f"{tmp}/p.conf", "--quiet"], check=True, cwd=tmp)

def compare_sequences(a, net, meta):
    """Clips → dlpipe's features and logits; the twin on the same features, one clip at a time (no padding)."""
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(a.inputs) for f in fs if f.rsplit(".", 1)[-1] in ("wav", "flac"))
    files = files[::max(1, len(files) // a.count)][:a.count]
    parts = [p.strip() for p in a.features.split("|")]
    reader = "  - read.audio: {path: in, " + parts[0] + "}\n" + "".join(f"  - {p}\n" for p in parts[1:])
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(f"{tmp}/in")
        for i, f in enumerate(files): os.symlink(os.path.abspath(f), f"{tmp}/in/{i:04d}{os.path.splitext(f)[1]}")
        run(a.dlpipe, "stages:\n" + reader + "  - write.features: {path: features.safetensors}\n", tmp)
        run(a.dlpipe, "stages:\n" + reader + f"  - sequence.classify: {{model: {os.path.abspath(a.model)}}}\n  - write.jsonl: {{path: out.jsonl}}\n", tmp)
        features, _ = read_safetensors(f"{tmp}/features.safetensors")
        ours = {os.path.basename(json.loads(l)["file"]): json.loads(l)["logits"] for l in open(f"{tmp}/out.jsonl")}
    normalise = json.loads(meta.get("preprocessing", "{}")).get("normalize", "none") == "clip"
    mine, theirs = [], []
    for key, t in sorted(features.items()):
        x = t.numpy().T                                  # stored [features, frames]
        if normalise: x = normalise_per_clip(x)
        with torch.no_grad(): theirs.append(net(torch.from_numpy(x)[None])[0].numpy())
        mine.append(ours[os.path.basename(key)])
    compare(np.array(mine, dtype=np.float32), np.array(theirs), f"{len(mine)} clips")

def compare_text(a, net, meta):
    """The first --chars characters of a text: dlpipe's logits at every one (text.generate's `logits`)
    against the twin's on the same ids."""
    opener = gzip.open if a.inputs.endswith(".gz") else open
    vocabulary = json.loads(meta["labels"]); ids = {c: i for i, c in enumerate(vocabulary)}
    text = "".join(c for c in opener(a.inputs, "rt", encoding="utf-8").read(a.chars * 2) if c in ids)[:a.chars]
    with tempfile.TemporaryDirectory() as tmp:
        run(a.dlpipe, "stages:\n  - text.generate:\n" + f"      model: {os.path.abspath(a.model)}\n      output: out.txt\n"
            f"      length: 1\n      logits: logits.json\n      prompt: {json.dumps(text)}\n", tmp)
        mine = np.array(json.load(open(f"{tmp}/logits.json"))["logits"], dtype=np.float32)
    x = torch.tensor([[ids[c] for c in text]], dtype=torch.float32)
    with torch.no_grad(): theirs = net(x)[0].numpy()
    compare(mine, theirs, f"{len(text)} characters")

def compare_gan(a, g, meta):
    """A generator from gan.train (and the discriminator beside it): gan.sample writes its inputs, raw
    outputs and the discriminator's logits on them; the twins compute the same from the same inputs."""
    disc = a.discriminator or a.model.replace(".safetensors", "-discriminator.safetensors")
    dt, dmeta = read_safetensors(disc)
    d = Twin(json.loads(dmeta["layers"]), json.loads(dmeta["input"])); d.load_state_dict(dt, strict=True); d.eval()
    with tempfile.TemporaryDirectory() as tmp:
        run(a.dlpipe, "stages:\n  - gan.sample:\n" + f"      model: {os.path.abspath(a.model)}\n      folder: out\n      count: {a.count}\n"
            f"      tensors: t.safetensors\n      discriminator: {os.path.abspath(disc)}\n", tmp)
        t, _ = read_safetensors(f"{tmp}/t.safetensors")
    with torch.no_grad():
        images = g(t["input"])
        logits = d(t["output"])   # conditional: the real/fake output, then one per class
    gdiff = float((images - t["output"]).abs().max())
    print(f"torch {torch.__version__}: generator load_state_dict(strict=True) ok; {a.count} samples; max |image diff| = {gdiff:.2e}")
    compare(t["discriminator_logits"].numpy(), logits.numpy(), f"discriminator on the same {a.count} samples") if gdiff <= 1e-4 else sys.exit(1)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default="models/digits.safetensors")
    ap.add_argument("inputs", nargs="?", default="data/mnist/test", help="PNG folder, clip folder or text file")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--chars", type=int, default=500)
    ap.add_argument("--features", default="sample_rate: 8000 | audio.trim: {top_db: 30} | audio.mfcc: {n_mfcc: 20, n_fft: 256, hop_length: 80, n_mels: 40}",
                    help="read.audio options, then the feature stages, separated by |")
    ap.add_argument("--dlpipe", default=".build/release/dlpipe")
    ap.add_argument("--discriminator", help="gan.train models: the discriminator (default: beside the generator)")
    a = ap.parse_args()
    a.dlpipe = os.path.abspath(a.dlpipe)
    tensors, meta = read_safetensors(a.model)
    layers, shape = json.loads(meta["layers"]), json.loads(meta["input"])
    if meta.get("format") == "dlpipe.vision.v1":
        layers.append({"dense": {"units": len(json.loads(meta["classes"])), "activation": "none"}})
    members = int(meta.get("members", "1"))
    if members > 1:
        # An ensemble: each member's tensors under "member<i>."; the twin averages the members' softmaxes as
        # dlpipe does (logits whose softmax is the mean).
        twins = []
        for i in range(members):
            t = Twin(layers, shape)
            t.load_state_dict({k[len(f"member{i}."):]: v for k, v in tensors.items() if k.startswith(f"member{i}.")}, strict=True)
            twins.append(t.eval())
        net = lambda x: torch.log(torch.stack([torch.softmax(t(x), -1) for t in twins]).mean(0))
    else:
        net = Twin(layers, shape)
        net.load_state_dict(tensors, strict=True)
        net.eval()
    if meta.get("task") == "sequence.train": return compare_sequences(a, net, meta)
    if meta.get("task") == "text.train": return compare_text(a, net, meta)
    if meta.get("task") == "gan.train": return compare_gan(a, net, meta)
    a.images = a.inputs
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
