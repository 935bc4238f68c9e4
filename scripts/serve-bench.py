#!/usr/bin/env python3
"""Measures `dlpipe serve` (scripts/bench-serve.sh runs this after building):

  throughput  N digit PNGs already waiting in inbox/ -> durable result JSON, `serve --once`, files/s
  latency     one file at a time renamed into inbox/ of a running daemon -> its result's appearance
  kill        2,000 PNGs (some corrupt) dropped while the daemon is SIGKILLed 3 times and restarted:
              every input must end with exactly one result or one error file, nothing left behind
  two         two daemons on one spool over 2,000 files: each input processed once (results carry
              the worker id)

Spools live under --root (on disk, not tmpfs: durability is part of the figure). Each round uses a new
spool; all are removed at the end, not between rounds: on an ext4 without a journal, creating files is
slow for a minute or more after many were deleted (the kernel's `recently_deleted` inode check), which
would skew the next round.
"""
import argparse, json, os, random, shutil, signal, statistics, subprocess, sys, threading, time

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--dlpipe", default=".build/release/dlpipe",
               help="the binary; for throughput, several comma-separated binaries are alternated round by round")
p.add_argument("--conf", default="pipelines/digits-classify.conf")
p.add_argument("--digits", default="data/mnist/test", help="folder of digit PNGs (searched recursively)")
p.add_argument("--root", default=".build/bench-serve")
p.add_argument("--files", type=int, default=10000, help="files per throughput round")
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--lone", type=int, default=50, help="single files for the latency figure")
p.add_argument("--kill-files", type=int, default=2000)
p.add_argument("--parts", default="throughput,latency,kill,two", help="which measurements, comma-separated")
p.add_argument("--json", action="store_true", help="print one JSON object at the end")
a = p.parse_args()

digits = sorted(os.path.join(d, f) for d, _, fs in os.walk(a.digits) for f in fs if f.endswith(".png"))
if not digits:
    sys.exit(f"no PNGs under {a.digits} (scripts/fetch-data.sh mnist fetches them)")
blobs = [open(f, "rb").read() for f in digits]
os.makedirs(a.root, exist_ok=True)
counter = [0]


def new_spool(tag):
    counter[0] += 1
    s = os.path.abspath(os.path.join(a.root, f"{tag}-{os.getpid()}-{counter[0]}"))
    for sub in ["inbox", "incoming"]:
        os.makedirs(os.path.join(s, sub), exist_ok=True)
    return s


def serve(spool, *extra, log=None):
    return subprocess.Popen([a.dlpipe.split(",")[-1], "serve", a.conf, "--spool", spool, *extra], stdout=subprocess.DEVNULL,
                            stderr=log or subprocess.DEVNULL, env=dict(os.environ, SWIFT_BACKTRACE="enable=no"))


def drop(spool, name, data):
    tmp = os.path.join(spool, "incoming", name)
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(spool, "inbox", name))


def listing(spool, sub):
    try:
        return [n for n in os.listdir(os.path.join(spool, sub)) if not n.startswith(".")]
    except FileNotFoundError:
        return []


def check_each_once(spool, names, corrupt):
    """Every input in done/ with one result or in failed/ with one error file; nothing else anywhere."""
    problems = []
    if listing(spool, "inbox"): problems.append(f"{len(listing(spool, 'inbox'))} left in inbox/")
    if listing(spool, "work"): problems.append(f"work/ not empty: {listing(spool, 'work')[:5]}")
    done, results = set(listing(spool, "done")), set(listing(spool, "results"))
    failed_all = listing(spool, "failed")
    failed = {n for n in failed_all if not n.endswith(".error.txt")}
    errors = {n for n in failed_all if n.endswith(".error.txt")}
    if done | failed != set(names): problems.append(f"inputs missing or extra: {len(set(names) ^ (done | failed))}")
    if done & failed: problems.append(f"{len(done & failed)} both done and failed")
    if failed != corrupt: problems.append(f"failed {len(failed)} != corrupt {len(corrupt)}")
    if results != {n + ".json" for n in done}: problems.append(f"results {len(results)} != done {len(done)}")
    if errors != {n + ".error.txt" for n in failed}: problems.append("error files do not match failed inputs")
    workers = {}
    for r in results:
        w = json.load(open(os.path.join(spool, "results", r)))["worker"]
        workers[w] = workers.get(w, 0) + 1
    return problems, workers


def throughput():
    binaries = a.dlpipe.split(",")
    rates = {b: [] for b in binaries}
    for _ in range(a.rounds):
        for binary in binaries:
            spool = new_spool("throughput")
            stage = os.path.join(spool, "stage")
            os.makedirs(stage)
            for i in range(a.files):
                with open(os.path.join(stage, f"r{i:06d}.png"), "wb") as f:
                    f.write(blobs[i % len(blobs)])
            os.rmdir(os.path.join(spool, "inbox"))
            os.rename(stage, os.path.join(spool, "inbox"))   # the whole batch arrives at once
            os.sync()
            t = time.perf_counter()
            r = subprocess.run([binary, "serve", a.conf, "--spool", spool, "--once", "-q"], capture_output=True, text=True)
            secs = time.perf_counter() - t
            ok = len(listing(spool, "done"))
            if r.returncode != 0 or ok != a.files:
                sys.exit(f"throughput round failed: status {r.returncode}, {ok}/{a.files} done\n{r.stderr}")
            rates[binary].append(a.files / secs)
            print(f"throughput ({binary}): {a.files} files in {secs:.2f} s = {a.files / secs:.0f} files/s "
                  "(process start and model load included)", flush=True)
    for b, r in rates.items():
        print(f"throughput ({b}): {min(r):.0f}–{max(r):.0f} files/s over {len(r)} rounds", flush=True)
    return rates[binaries[-1]]


def latency():
    spool = new_spool("latency")
    d = serve(spool, "--poll", "1")
    while not os.path.isdir(os.path.join(spool, "work")) or not listing(spool, "work"):
        time.sleep(0.01)
    time.sleep(0.2)
    lat = []
    for i in range(a.lone):
        name = f"lone{i:04d}.png"
        tmp = os.path.join(spool, "incoming", name)
        with open(tmp, "wb") as f:
            f.write(blobs[i % len(blobs)])
        result = os.path.join(spool, "results", name + ".json")
        t = time.perf_counter()
        os.rename(tmp, os.path.join(spool, "inbox", name))
        while not os.path.exists(result):
            time.sleep(0.0002)
        lat.append((time.perf_counter() - t) * 1000)
        time.sleep(0.05)
    d.send_signal(signal.SIGTERM)
    d.wait()
    lat.sort()
    print(f"latency of a lone file (rename into inbox/ -> result file): median {statistics.median(lat):.1f} ms, "
          f"p90 {lat[int(len(lat) * 0.9)]:.1f} ms, max {lat[-1]:.1f} ms over {len(lat)}", flush=True)
    return lat


def kill_test():
    spool = new_spool("kill")
    n = a.kill_files
    files = [(f"k{i:05d}.png", b"corrupt %d" % i if i % 50 == 49 else blobs[i % len(blobs)]) for i in range(n)]
    corrupt = {name for name, data in files if len(data) < 40}
    writer = threading.Thread(target=lambda: [(drop(spool, nm, d), time.sleep(0.0005)) for nm, d in files])
    writer.start()
    moments, held = [], []
    for k in range(3):
        d = serve(spool, "--poll", "0.05", "--worker", f"K{k}")
        t = time.perf_counter()
        time.sleep(random.uniform(0.1, 0.6))
        # At a random moment while it holds claimed inputs (between a claim and the end of its commit).
        while not listing(spool, f"work/K{k}") and time.perf_counter() - t < 5:
            time.sleep(0.0005)
        time.sleep(random.uniform(0, 0.003))
        d.send_signal(signal.SIGKILL)
        d.wait()
        moments.append(round(time.perf_counter() - t, 3))
        held.append(len(listing(spool, f"work/K{k}")))
    writer.join()
    r = subprocess.run([a.dlpipe.split(",")[-1], "serve", a.conf, "--spool", spool, "--once"], capture_output=True, text=True)
    problems, workers = check_each_once(spool, [nm for nm, _ in files], corrupt)
    recovered = [l for l in r.stderr.splitlines() if "recovered" in l]
    print(f"kill test: {n} files ({len(corrupt)} corrupt), SIGKILL after {moments} s; inputs held by each when killed {held}; "
          f"final worker: {recovered}; results by worker {sorted(workers.values())}; "
          f"{'OK: each input exactly once' if not problems else 'PROBLEMS: ' + '; '.join(problems)}", flush=True)
    return problems


def two_workers():
    spool = new_spool("two")
    n = a.kill_files
    files = [(f"t{i:05d}.png", blobs[i % len(blobs)]) for i in range(n)]
    ds = [serve(spool, "--worker", w, "--batch", "64") for w in ["A", "B"]]
    while len(listing(spool, "work")) < 4:
        time.sleep(0.01)
    for nm, data in files:
        drop(spool, nm, data)
    deadline = time.time() + 120
    while len(listing(spool, "done")) + len(listing(spool, "failed")) < n and time.time() < deadline:
        time.sleep(0.02)
    for d in ds:
        d.send_signal(signal.SIGTERM)
    codes = [d.wait() for d in ds]
    problems, workers = check_each_once(spool, [nm for nm, _ in files], set())
    print(f"two workers: {n} files, results by worker {workers}, exit codes {codes}; "
          f"{'OK: no input processed twice' if not problems else 'PROBLEMS: ' + '; '.join(problems)}", flush=True)
    return problems, workers


parts = set(a.parts.split(","))
rates, lat, kill_problems, two_problems, two_counts = [], [], [], [], {}
try:
    if "throughput" in parts: rates = throughput()
    if "latency" in parts: lat = latency()
    if "kill" in parts: kill_problems = kill_test()
    if "two" in parts: two_problems, two_counts = two_workers()
finally:
    shutil.rmtree(a.root, ignore_errors=True)
if a.json:
    print(json.dumps({"files_per_second": [round(r) for r in rates],
                      "lone_file_ms": {"median": statistics.median(lat), "max": max(lat)} if lat else None,
                      "kill_test_ok": not kill_problems if "kill" in parts else None,
                      "two_workers_ok": not two_problems if "two" in parts else None, "two_workers": two_counts}))
sys.exit(1 if kill_problems or two_problems else 0)
