#!/usr/bin/env python3
"""The shapes and passes of `dlpipe bench conv-shapes`, timed in PyTorch or TensorFlow: forward, input gradient
and weight gradient of each convolution on its own, best of several runs, as JSON lines like dlpipe's
({"bench":"conv-shapes","framework":…,"shape":…,"pass":…,"threads":…,"gflops":…,"ms":…}).
  /usr/bin/python3 scripts/conv-shapes-peer.py torch [--threads 2] [--seconds 0.5]   (Debian's python3-torch)
  kvenv/bin/python scripts/conv-shapes-peer.py tf [--threads 2] [--seconds 0.5]       (pip tensorflow-cpu: oneDNN)
scripts/bench-conv-shapes.sh runs dlpipe and both peers alternated and prints the ratios."""
import argparse, json, os, time

# name, transposed, batch, cin, cout, size, kernel, stride, padding — the table of BenchConvShapes.swift.
SHAPES = [
    ("dcgan.G.convT1", True, 64, 256, 128, 7, 5, 1, 2), ("dcgan.G.convT2", True, 64, 128, 64, 7, 5, 2, 2),
    ("dcgan.G.convT3", True, 64, 64, 1, 14, 5, 2, 2), ("dcgan.D.conv1", False, 64, 1, 64, 28, 5, 2, 2),
    ("dcgan.D.conv2", False, 64, 64, 128, 14, 5, 2, 2), ("seed.conv1", False, 32, 1, 32, 28, 3, 1, 0),
    ("seed.conv2", False, 32, 32, 64, 13, 3, 1, 0), ("resnet.3x3.64", False, 8, 64, 64, 56, 3, 1, 1),
    ("resnet.3x3.128", False, 16, 128, 128, 28, 3, 1, 1), ("resnet.1x1.256-64", False, 16, 256, 64, 28, 1, 1, 0),
    ("stem.7x7.s2", False, 4, 3, 64, 224, 7, 2, 3),
]

def macs(transposed, batch, cin, cout, size, k, stride, pad):
    pixels = size * size if transposed else ((size + 2 * pad - k) // stride + 1) ** 2
    return batch * pixels * cin * cout * k * k

def best(fn, seconds):
    fn()
    t_end, best_t = time.perf_counter() + seconds, float("inf")
    while True:
        t0 = time.perf_counter(); fn(); best_t = min(best_t, time.perf_counter() - t0)
        if time.perf_counter() > t_end: return best_t

def torch_passes(s, threads):
    import torch, torch.nn.functional as F
    from torch.nn.grad import conv2d_input, conv2d_weight
    torch.set_num_threads(threads)
    name, tr, n, cin, cout, size, k, st, p = s
    x = torch.rand(n, cin, size, size)
    if tr:
        w = torch.rand(cin, cout, k, k) * 0.2 - 0.1
        y = F.conv_transpose2d(x, w, stride=st, padding=p, output_padding=st - 1); gy = torch.rand_like(y)
        return {"forward": lambda: F.conv_transpose2d(x, w, stride=st, padding=p, output_padding=st - 1),
                "input-grad": lambda: F.conv2d(gy, w, stride=st, padding=p),
                "weight-grad": lambda: conv2d_weight(gy, w.shape, x, stride=st, padding=p)}
    w = torch.rand(cout, cin, k, k) * 0.2 - 0.1
    y = F.conv2d(x, w, stride=st, padding=p); gy = torch.rand_like(y)
    return {"forward": lambda: F.conv2d(x, w, stride=st, padding=p),
            "input-grad": lambda: conv2d_input(x.shape, w, gy, stride=st, padding=p),
            "weight-grad": lambda: conv2d_weight(x, w.shape, gy, stride=st, padding=p)}

def tf_passes(s, threads):
    import tensorflow as tf
    name, tr, n, cin, cout, size, k, st, p = s
    pads = [[0, 0], [p, p], [p, p], [0, 0]]
    flat = [0, 0, p, p, p, p, 0, 0]
    x = tf.random.uniform([n, size, size, cin])  # NHWC, TensorFlow's CPU layout
    conv = lambda inp, w: tf.nn.conv2d(inp, w, strides=st, padding=pads)
    if tr:
        w = tf.random.uniform([k, k, cout, cin], -0.1, 0.1)  # conv2d_transpose's filter: [h, w, out, in]
        out = (size - 1) * st - 2 * p + k + (st - 1)
        oshape = [n, out, out, cout]
        fwd = tf.function(lambda: tf.nn.conv2d_transpose(x, w, oshape, strides=st, padding=pads))
        gy = tf.random.uniform(oshape)
        return {"forward": fwd, "input-grad": tf.function(lambda: conv(gy, w)),
                "weight-grad": tf.function(lambda: tf.raw_ops.Conv2DBackpropFilter(
                    input=gy, filter_sizes=[k, k, cout, cin], out_backprop=x, strides=[1, st, st, 1],
                    padding="EXPLICIT", explicit_paddings=flat))}
    w = tf.random.uniform([k, k, cin, cout], -0.1, 0.1)
    gy = tf.random.uniform(conv(x, w).shape)
    return {"forward": tf.function(lambda: conv(x, w)),
            "input-grad": tf.function(lambda: tf.raw_ops.Conv2DBackpropInput(
                input_sizes=[n, size, size, cin], filter=w, out_backprop=gy, strides=[1, st, st, 1],
                padding="EXPLICIT", explicit_paddings=flat)),
            "weight-grad": tf.function(lambda: tf.raw_ops.Conv2DBackpropFilter(
                input=x, filter_sizes=[k, k, cin, cout], out_backprop=gy, strides=[1, st, st, 1],
                padding="EXPLICIT", explicit_paddings=flat))}

ap = argparse.ArgumentParser()
ap.add_argument("framework", choices=["torch", "tf"])
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--seconds", type=float, default=0.5)
a = ap.parse_args()
if a.framework == "tf":
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
for s in SHAPES:
    passes = torch_passes(s, a.threads) if a.framework == "torch" else tf_passes(s, a.threads)
    m = macs(*s[1:])
    for kind, fn in passes.items():
        t = best(fn, a.seconds)
        print(json.dumps({"bench": "conv-shapes", "framework": a.framework, "shape": s[0], "pass": kind,
                          "threads": a.threads, "gflops": round(2 * m / t / 1e9, 1), "ms": round(t * 1e3, 3)}), flush=True)
