#!/usr/bin/python3
"""Accuracy of a speech model on clips as they arrive from elsewhere: the same words at 48 kHz, through an
8 kHz telephone band (300–3400 Hz), quiet (−30 dB), and with 0.3–0.6 s of steady noise before and after
(SNR 15 dB). Classifies each condition with pipelines/speech-classify.conf as it is and with the given
--set variations (say audio.trim.noise_margin_db=6), and prints accuracy per condition and variation.
Choose a variation on the validation voices (data/speech/validation); the test split is for reporting.
Needs sox and numpy (Debian: sox, python3-numpy).
Usage: scripts/speech-robustness.py [--clips data/speech/validation] [--model models/speech.safetensors]
           [--per-class 10] [--variant NAME=K=V[,K=V...]]..."""
import argparse, os, random, subprocess, sys, tempfile, wave
import numpy as np

def read_wav(path):
    with wave.open(path) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768, w.getframerate()

def write_wav(path, x, rate):
    with wave.open(path, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())

def conditions(src, tmp, name, rng):
    """Writes every condition of one clip; returns {condition: path}."""
    base = f"{tmp}/src-{name}.wav"
    subprocess.run(["sox", "-V1", src, "-r", "16000", "-c", "1", "-b", "16", base], check=True)
    x, rate = read_wav(base)
    out = {}
    def put(cond, y, r):
        d = f"{tmp}/{cond}/{name.split('_')[0]}"; os.makedirs(d, exist_ok=True)
        p = f"{d}/{name}.wav"; write_wav(p, y, r); out[cond] = p
    put("as-is", x, rate)
    hi = f"{tmp}/hi-{name}.wav"; subprocess.run(["sox", "-V1", base, "-r", "48000", hi], check=True)
    put("48kHz", *read_wav(hi))
    tel = f"{tmp}/tel-{name}.wav"; subprocess.run(["sox", "-V1", base, "-r", "8000", tel, "sinc", "300-3400"], check=True)
    put("telephone", *read_wav(tel))
    put("quiet", x * 10 ** (-30 / 20), rate)
    power = float((x ** 2).mean()) or 1e-12
    sigma = (power / 10 ** (15 / 10)) ** 0.5
    before, after = (int(rng.uniform(0.3, 0.6) * rate) for _ in range(2))
    padded = np.concatenate([np.zeros(before, np.float32), x, np.zeros(after, np.float32)])
    put("noise-around", padded + np.random.default_rng(rng.randrange(1 << 30)).normal(0, sigma, padded.size).astype(np.float32), rate)
    return out

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", default="data/speech/validation")
    ap.add_argument("--model", default="models/speech.safetensors")
    ap.add_argument("--per-class", type=int, default=10)
    ap.add_argument("--variant", action="append", default=[], help="NAME=K=V[,K=V...]: --set options to compare")
    ap.add_argument("--dlpipe", default=".build/release/dlpipe")
    a = ap.parse_args()
    rng = random.Random(1)
    variants = [("shipped", [])] + [(v.split("=", 1)[0], v.split("=", 1)[1].split(",")) for v in a.variant]
    with tempfile.TemporaryDirectory() as tmp:
        clips = []
        for label in sorted(os.listdir(a.clips)):
            folder = os.path.join(a.clips, label)
            if not os.path.isdir(folder): continue
            files = sorted(f for f in os.listdir(folder) if f.rsplit(".", 1)[-1] in ("wav", "flac"))
            clips += [os.path.join(folder, f) for f in rng.sample(files, min(a.per_class, len(files)))]
        for f in clips:
            conditions(f, tmp, os.path.splitext(os.path.basename(f))[0], rng)
        print(f"{len(clips)} clips from {a.clips}, model {a.model}")
        print("condition".ljust(14) + "".join(n.rjust(14) for n, _ in variants))
        for cond in ["as-is", "48kHz", "telephone", "quiet", "noise-around"]:
            row = cond.ljust(14)
            for name, sets in variants:
                csv = f"{tmp}/{cond}-{name}.csv"
                args = [a.dlpipe, "run", "pipelines/speech-classify.conf", "--quiet",
                        "--set", f"read.audio.path={os.path.abspath(os.path.join(tmp, cond))}",
                        "--set", f"sequence.classify.model={os.path.abspath(a.model)}",
                        "--set", f"write.csv.path={csv}"]
                for s in sets: args += ["--set", s]
                subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
                rows = [l.split(",") for l in open(csv).read().splitlines()[1:]]
                ok = sum(os.path.basename(r[0]).split("_")[0] == r[1] for r in rows)
                row += f"{100 * ok / max(len(rows), 1):13.1f}%"
            print(row)

if __name__ == "__main__":
    main()
