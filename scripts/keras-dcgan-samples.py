#!/usr/bin/env python3
"""The Keras peer's DCGAN (../shared/peers/keras_models.py: its models, losses and Adam(1e-4)), trained on
the same 4,000 training digits as pipelines/gan-train.conf (MNIST-5k, first 400 of each class) for a given
number of epochs at batch 64, then N samples written as 8-bit gray PNGs, so that
`gan.evaluate {samples: FOLDER}` can judge them with the same classifier as ours.
Usage: KERAS_PY=/path/to/venv/bin/python; $KERAS_PY scripts/keras-dcgan-samples.py --epochs 30 --out runs/gan/keras-samples
then: SAMPLES=runs/gan/keras-samples dlpipe run scripts/gan-evaluate-samples.conf
"""
import argparse, os, sys, time
import numpy as np
peers = os.environ.get("PEERS", os.path.join(os.path.dirname(__file__), "../../shared/peers"))
sys.path.insert(0, peers)
import keras_models as km   # sets 2 threads and the seed
import tensorflow as tf
from torch_models_data import mnist5k

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--csv", default="data/mnist_5k.csv.gz")
ap.add_argument("--epochs", type=int, default=30)
ap.add_argument("--count", type=int, default=1000)
ap.add_argument("--out", default="runs/gan/keras-samples")
a = ap.parse_args()

(xtr, _), _ = mnist5k(a.csv)
real_all = xtr.transpose(0, 2, 3, 1) * 2 - 1
G, D = km.dcgan_models()
bce = km.keras.losses.BinaryCrossentropy(from_logits=True)
og, od = km.keras.optimizers.Adam(1e-4), km.keras.optimizers.Adam(1e-4)

@tf.function
def step(real):
    z = tf.random.normal((tf.shape(real)[0], 100))
    with tf.GradientTape() as gt, tf.GradientTape() as dt:
        fake = G(z, training=True); r, f = D(real, training=True), D(fake, training=True)
        gl = bce(tf.ones_like(f), f); dl = bce(tf.ones_like(r), r) + bce(tf.zeros_like(f), f)
    og.apply_gradients(zip(gt.gradient(gl, G.trainable_variables), G.trainable_variables))
    od.apply_gradients(zip(dt.gradient(dl, D.trainable_variables), D.trainable_variables))

t0 = time.perf_counter()
for ep in range(a.epochs):
    perm = np.random.permutation(len(real_all))
    for i in range(0, len(perm) - 63, 64): step(real_all[perm[i:i + 64]])
    print(f"epoch {ep + 1} elapsed_s={time.perf_counter() - t0:.0f}", flush=True)
samples = G(tf.random.normal((a.count, 100)), training=False).numpy()
os.makedirs(a.out, exist_ok=True)
for i, s in enumerate(samples):
    km.write_png_gray(os.path.join(a.out, f"keras-{i + 1:04d}.png"), ((s[:, :, 0] + 1) * 127.5).clip(0, 255).round())
print(f"RESULT epochs={a.epochs} train_s={time.perf_counter() - t0:.0f} samples={a.count} folder={a.out}")
