#!/usr/bin/python3
"""What averaging seeds buys on the speech validation folds, without training again: for each fold (a real
training speaker held out), the models that scripts/speech-folds.sh trained with several seeds are
averaged by sequence.classify (its `ensemble` option, as sequence.train's `members: N` averages) and
scored on the held-out speaker's clips and on the validation voices (women's, men's). Prints each seed
alone and the average. The test split is never read.
Usage: scripts/speech-folds-ensemble.py RUN_DIR... [--folds "nicolas lucas george jackson"] [--seeds "1 2 3"]
  RUN_DIR: runs/speech-folds/NAME folders holding <speaker>-seed<N>/model.safetensors (several may be given)."""
import argparse, os, subprocess, sys, tempfile

def accuracy(csv, group=None):
    rows = [l.split(",") for l in open(csv).read().splitlines()[1:]]
    if group: rows = [r for r in rows if os.path.basename(r[0]).split("_")[1].startswith(group + "-")]
    return sum(os.path.basename(r[0]).split("_")[0] == r[1] for r in rows) / max(len(rows), 1)

def classify(dlpipe, folder, models, out):
    sets = ["--set", f"read.audio.path={os.path.abspath(folder)}", "--set", f"sequence.classify.model={os.path.abspath(models[0])}",
            "--set", f"write.csv.path={out}"]
    if len(models) > 1: sets += ["--set", "sequence.classify.ensemble=[" + ", ".join(os.path.abspath(m) for m in models[1:]) + "]"]
    subprocess.run([dlpipe, "run", "pipelines/speech-classify.conf", "--quiet"] + sets, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+"); ap.add_argument("--folds", default="nicolas lucas george jackson")
    ap.add_argument("--seeds", default="1 2 3"); ap.add_argument("--dlpipe", default=".build/release/dlpipe")
    a = ap.parse_args()
    seeds = a.seeds.split()
    def model(speaker, seed):
        for r in a.runs:
            p = os.path.join(r, f"{speaker}-seed{seed}", "model.safetensors")
            if os.path.exists(p): return p
        sys.exit(f"speech-folds-ensemble: no model for {speaker}, seed {seed} in {a.runs}")
    table = {}
    with tempfile.TemporaryDirectory() as tmp:
        for speaker in a.folds.split():
            own = f"{tmp}/{speaker}"
            for d in sorted(os.listdir("data/speech/train")):
                for f in os.listdir(f"data/speech/train/{d}"):
                    if f.split("_")[1] == speaker:
                        os.makedirs(f"{own}/{d}", exist_ok=True); os.symlink(os.path.abspath(f"data/speech/train/{d}/{f}"), f"{own}/{d}/{f}")
            for name, models in [(f"seed {s}", [model(speaker, s)]) for s in seeds] + [(f"average of {len(seeds)}", [model(speaker, s) for s in seeds])]:
                classify(a.dlpipe, own, models, f"{tmp}/fold.csv")
                classify(a.dlpipe, "data/speech/validation", models, f"{tmp}/voices.csv")
                table.setdefault(name, []).append((accuracy(f"{tmp}/fold.csv"), accuracy(f"{tmp}/voices.csv", "women"), accuracy(f"{tmp}/voices.csv", "men")))
    print(f"{'':16}{'held-out man':>14}{'women voices':>14}{'men voices':>12}{'score':>8}   (mean over folds {a.folds})")
    for name, rows in table.items():
        m = [sum(r[i] for r in rows) / len(rows) for i in range(3)]
        print(f"{name:16}{m[0]:14.3f}{m[1]:14.3f}{m[2]:12.3f}{(m[0] + m[1]) / 2:8.3f}")

if __name__ == "__main__":
    main()
