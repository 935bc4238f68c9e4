#!/usr/bin/python3
"""Writes Tests/NNTests/Fixtures/torch_golden.safetensors: inputs, weights, outputs and gradients of
PyTorch layers, so dlpipe's layers are checked against the reference (maxdiff printed by the tests).
Run with Debian's torch: `/usr/bin/python3 scripts/make-torch-golden.py` (apt-get install python3-torch).
The safetensors file is written by hand (the format is a length, a JSON header and raw F32 data)."""
import json, struct, sys
import torch
import torch.nn.functional as F

torch.manual_seed(0)
out = {}

def put(name, t):
    out[name] = t.detach().clone().contiguous().float()   # a copy: a later zero_grad() must not reach it

def grads(name, fn, *inputs):
    xs = [t.clone().requires_grad_(True) for t in inputs]
    y = fn(*xs)
    w = torch.linspace(-1, 1, y.numel()).reshape(y.shape)
    (y * w).sum().backward()
    put(name + ".out", y)
    put(name + ".w", w)
    for i, (t, x) in enumerate(zip(inputs, xs)):
        put(f"{name}.in{i}", t)
        put(f"{name}.grad{i}", x.grad)

r = lambda *s: torch.randn(*s)
grads("linear", lambda x, w, b: F.linear(x, w, b), r(4, 5), r(3, 5), r(3))
grads("conv_s1p1", lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1), r(2, 3, 7, 6), r(4, 3, 3, 3), r(4))
grads("conv_s2", lambda x, w: F.conv2d(x, w, stride=2), r(2, 2, 9, 8), r(3, 2, 5, 5))
grads("convT", lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
      r(2, 3, 4, 5), r(3, 2, 3, 3), r(2))
grads("maxpool", lambda x: F.max_pool2d(x, 2), r(2, 3, 7, 6))
grads("avgpool", lambda x: F.avg_pool2d(x, 2), r(2, 3, 7, 6))
grads("logsoftmax", lambda x: F.log_softmax(x, dim=1), r(5, 10) * 3)
grads("bn_train", lambda x, g, b: F.batch_norm(x, torch.zeros(3), torch.ones(3), g, b, training=True),
      r(4, 3, 3, 2), r(3), r(3))
labels = torch.tensor([3, 0, 9, 1, 3])
logits = r(5, 10) * 2
lx = logits.clone().requires_grad_(True)
ce = F.cross_entropy(lx, labels); ce.backward()
put("ce.logits", logits); put("ce.labels", labels.float()); put("ce.loss", ce.reshape(1)); put("ce.grad", lx.grad)
t = torch.rand(6, 4); bl = r(6, 4) * 2
bx = bl.clone().requires_grad_(True)
bce = F.binary_cross_entropy_with_logits(bx, t); bce.backward()
put("bce.logits", bl); put("bce.target", t); put("bce.loss", bce.reshape(1)); put("bce.grad", bx.grad)

# One LSTM layer (PyTorch gate order i, f, g, o) over sequences of unequal lengths, one of them a single
# step: the padded output sequence, and each sequence's state at its own last frame.
lens = [5, 2, 1]
def recurrent(kernel, sequence):
    def f(x, wih, whh, bih, bhh):
        # nn.LSTM's / nn.GRU's own kernel (_VF.lstm / _VF.gru, what they call on a PackedSequence), with our
        # leaf weights.
        p = torch.nn.utils.rnn.pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False)
        h0 = torch.zeros(1, x.shape[0], whh.shape[1])
        if kernel == "lstm":
            y, hn, _ = torch._VF.lstm(p.data, p.batch_sizes, (h0, h0), [wih, whh, bih, bhh], True, 1, 0.0, False, False)
        else:
            y, hn = torch._VF.gru(p.data, p.batch_sizes, h0, [wih, whh, bih, bhh], True, 1, 0.0, False, False)
        y = torch.nn.utils.rnn.PackedSequence(y, p.batch_sizes, p.sorted_indices, p.unsorted_indices)
        if sequence: return torch.nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])[0]
        return hn[0].index_select(0, p.unsorted_indices)
    return f
for kernel, gates in (("lstm", 4), ("gru", 3)):
    inputs = (r(3, 5, 4), r(gates * 3, 4) * 0.5, r(gates * 3, 3) * 0.5, r(gates * 3) * 0.5, r(gates * 3) * 0.5)
    grads(f"{kernel}_seq", recurrent(kernel, True), *inputs)
    grads(f"{kernel}_last", recurrent(kernel, False), *inputs)

# A two-layer bidirectional nn.LSTM over the same lengths (drawn after everything above, so the older
# entries stay as they were): the padded output sequence, and h_n of the last layer (forward then
# backward) — with the gradients of the input and of every named parameter.
bi = torch.nn.LSTM(4, 3, num_layers=2, bidirectional=True, batch_first=True)
bx = r(3, 5, 4)
for sequence in (True, False):
    name = "bilstm_seq" if sequence else "bilstm_last"
    bi.zero_grad(); xx = bx.clone().requires_grad_(True)
    y, (hn, _) = bi(torch.nn.utils.rnn.pack_padded_sequence(xx, lens, batch_first=True, enforce_sorted=False))
    y = torch.nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=5)[0] if sequence else torch.cat([hn[-2], hn[-1]], -1)
    w = torch.linspace(-1, 1, y.numel()).reshape(y.shape)
    (y * w).sum().backward()
    put(name + ".out", y); put(name + ".w", w); put(name + ".in", bx); put(name + ".grad", xx.grad)
    for n, t in bi.named_parameters():
        put(f"{name}.{n}", t); put(f"{name}.grad.{n}", t.grad)

# nn.Conv1d over the time axis of sequences [N, T, C] (dlpipe's layout; PyTorch's [N, C, T] by transposing),
# stride 2 and padding 1, with a bias (drawn last, so the older entries stay as they were).
grads("conv1d_s2p1", lambda x, w, b: F.conv1d(x.transpose(1, 2), w, b, stride=2, padding=1).transpose(1, 2),
      r(3, 7, 4), r(5, 4, 3), r(5))

header, blobs, off = {}, [], 0
for k in sorted(out):
    b = out[k].numpy().astype("<f4").tobytes()
    header[k] = {"dtype": "F32", "shape": list(out[k].shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b); off += len(b)
header["__metadata__"] = {"torch": torch.__version__}
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
path = sys.argv[1] if len(sys.argv) > 1 else "Tests/NNTests/Fixtures/torch_golden.safetensors"
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(h))); f.write(h); f.write(b"".join(blobs))
print("wrote", path, 8 + len(h) + off, "bytes")
