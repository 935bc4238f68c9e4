#!/usr/bin/python3
"""What a user would write instead of `dlpipe serve --listen`: a FastAPI app on uvicorn that serves the same
digit model in PyTorch (the twin scripts/compare-torch.py builds from the model file, its weights loaded with
load_state_dict(strict=True)). POST /v1/pipelines/digits with a PNG body → {"label", "confidence", "top"}.
Debian: apt-get install python3-torch libopenblas0-openmp; pip install fastapi uvicorn.
Usage: /usr/bin/python3 scripts/serve-peer.py MODEL PORT"""
import importlib.util, io, os, struct, sys, zlib
import numpy as np
import torch
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("compare_torch", os.path.join(here, "compare-torch.py"))
ct = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ct)

model_path, port = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(int(os.environ.get("THREADS", "2")))
tensors, meta = ct.read_safetensors(model_path)
net = ct.Twin(ct.json.loads(meta["layers"]), ct.json.loads(meta["input"]))
net.load_state_dict(tensors, strict=True)
net.eval()
classes = ct.json.loads(meta["labels"])
app = FastAPI()

def decode_png(body):
    """8-bit gray PNG → [1, 1, H, W] in 0…1 (the same minimal decoder compare-torch.py uses)."""
    path = f"/dev/shm/serve-peer-{os.getpid()}.png"
    with open(path, "wb") as f:
        f.write(body)
    return torch.from_numpy(ct.read_png_gray8(path))[None, None]

@app.post("/v1/pipelines/digits")
async def predict(request: Request):
    x = decode_png(await request.body())
    with torch.no_grad():
        p = torch.softmax(net(x), dim=1)[0]
    top = torch.topk(p, 3)
    return JSONResponse({"label": classes[int(top.indices[0])], "confidence": float(top.values[0]),
                         "top": [{"label": classes[int(i)], "p": float(v)} for v, i in zip(top.values, top.indices)]})

uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
