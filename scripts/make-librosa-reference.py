#!/usr/bin/env python3
"""Makes the audio-feature reference fixtures: three real spoken-digit clips (espeak-ng, flite, and a
sox-augmented copy with pitch shift and noise), 16 kHz 16-bit WAV, plus librosa's melspectrogram and
MFCC for each, stored in Tests/MediaTests/Fixtures/audio/librosa_reference.safetensors.
Needs: apt-get install espeak-ng flite sox; pip install librosa safetensors."""
import os, subprocess, tempfile
import numpy as np, librosa
from safetensors.numpy import save_file

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "MediaTests", "Fixtures", "audio")
os.makedirs(out, exist_ok=True)
tmp = tempfile.mkdtemp()
def sh(*a): subprocess.run(a, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
sh("espeak-ng", "-v", "en-us", "-w", f"{tmp}/a.wav", "seven")
sh("flite", "-voice", "kal", "-t", "three", "-o", f"{tmp}/b.wav")
clips = {"espeak_seven": f"{tmp}/a.wav", "flite_three": f"{tmp}/b.wav"}
for name, src in clips.items():
    sh("sox", src, "-r", "16000", "-b", "16", "-c", "1", f"{out}/{name}.wav")
sh("sox", f"{out}/flite_three.wav", f"{out}/flite_three_aug.wav", "pitch", "200", "tempo", "1.1")
sh("sox", f"{out}/flite_three_aug.wav", f"{tmp}/n.wav", "synth", "whitenoise", "vol", "0.02")
sh("sox", "-m", f"{out}/flite_three_aug.wav", f"{tmp}/n.wav", "-b", "16", f"{out}/flite_three_noisy.wav")
os.remove(f"{out}/flite_three_aug.wav")
ref = {}
for name in ["espeak_seven", "flite_three", "flite_three_noisy"]:
    y, sr = librosa.load(f"{out}/{name}.wav", sr=None)
    assert sr == 16000
    ref[f"{name}.mel"] = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=160, n_mels=40).astype(np.float32)
    ref[f"{name}.mfcc"] = librosa.feature.mfcc(y=y, sr=16000, n_mfcc=13, n_fft=512, hop_length=160, n_mels=40).astype(np.float32)
    ref[f"{name}.mel_htk_nonorm"] = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=160, n_mels=40,
                                                                   htk=True, norm=None).astype(np.float32)
save_file(ref, f"{out}/librosa_reference.safetensors", metadata={"librosa": librosa.__version__})
print("librosa", librosa.__version__, {k: v.shape for k, v in ref.items()})
