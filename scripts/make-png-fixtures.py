#!/usr/bin/env python3
"""Writes small PNG fixtures covering every colour type, bit depth and interlace, with known pixel
values, into Tests/MediaTests/Fixtures/png/ (pip install pypng). Each image is 7×5 with the pattern
v(x, y) = (x * 5 + y * 3) % levels, so tests can recompute every pixel."""
import os, png
out = os.path.join(os.path.dirname(__file__), "..", "Tests", "MediaTests", "Fixtures", "png")
os.makedirs(out, exist_ok=True)
W, H = 7, 5
def pattern(levels, x, y): return (x * 5 + y * 3) % levels

for depth in (1, 2, 4, 8, 16):
    levels = 2 ** depth
    rows = [[pattern(levels, x, y) for x in range(W)] for y in range(H)]
    png.Writer(W, H, greyscale=True, bitdepth=depth).write(open(f"{out}/gray{depth}.png", "wb"), rows)
for depth in (8, 16):
    m = 2 ** depth - 1
    rows = [sum(([pattern(m + 1, x, y), m - pattern(m + 1, x, y) // 2] for x in range(W)), []) for y in range(H)]
    png.Writer(W, H, greyscale=True, alpha=True, bitdepth=depth).write(open(f"{out}/gray_alpha{depth}.png", "wb"), rows)
    rows = [sum(([pattern(m + 1, x, y), (pattern(m + 1, x, y) * 7) % (m + 1), m - pattern(m + 1, x, y)] for x in range(W)), []) for y in range(H)]
    png.Writer(W, H, greyscale=False, bitdepth=depth).write(open(f"{out}/rgb{depth}.png", "wb"), rows)
    rows = [sum(([pattern(m + 1, x, y), 0, m, (m * (x + 1)) // W] for x in range(W)), []) for y in range(H)]
    png.Writer(W, H, greyscale=False, alpha=True, bitdepth=depth).write(open(f"{out}/rgba{depth}.png", "wb"), rows)
    rows = [sum(([pattern(m + 1, x, y), (pattern(m + 1, x, y) * 7) % (m + 1), m - pattern(m + 1, x, y)] for x in range(W)), []) for y in range(H)]
    png.Writer(W, H, greyscale=False, bitdepth=depth, interlace=True).write(open(f"{out}/rgb{depth}_interlaced.png", "wb"), rows)
palette = [(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
rows = [[pattern(5, x, y) for x in range(W)] for y in range(H)]
png.Writer(W, H, palette=palette, bitdepth=8).write(open(f"{out}/palette.png", "wb"), rows)
png.Writer(W, H, palette=[c + (a,) for c, a in zip(palette, (255, 128, 255, 0, 255))], bitdepth=8).write(
    open(f"{out}/palette_trns.png", "wb"), rows)
png.Writer(W, H, palette=palette[:4], bitdepth=2).write(open(f"{out}/palette2.png", "wb"),
    [[pattern(4, x, y) for x in range(W)] for y in range(H)])
rows = [[pattern(256, x, y) for x in range(W)] for y in range(H)]
png.Writer(W, H, greyscale=True, bitdepth=8, interlace=True).write(open(f"{out}/gray8_interlaced.png", "wb"), rows)
# Keyed transparency (a tRNS colour, no alpha channel): light strokes on a dark-blue (or dark-gray) background
# whose colour is the key. A keyed colour is a real colour: readers show it as drawn.
ink = [[pattern(3, x, y) == 0 for x in range(W)] for y in range(H)]
png.Writer(W, H, greyscale=False, bitdepth=8, transparent=(0, 0, 96)).write(open(f"{out}/rgb8_key.png", "wb"),
    [sum(([230, 230, 230] if ink[y][x] else [0, 0, 96] for x in range(W)), []) for y in range(H)])
png.Writer(W, H, greyscale=False, bitdepth=16, transparent=(0, 0, 24672)).write(open(f"{out}/rgb16_key.png", "wb"),
    [sum(([59110, 59110, 59110] if ink[y][x] else [0, 0, 24672] for x in range(W)), []) for y in range(H)])
png.Writer(W, H, greyscale=True, bitdepth=16, transparent=8000).write(open(f"{out}/gray16_key.png", "wb"),
    [[60000 if ink[y][x] else 8000 for x in range(W)] for y in range(H)])
png.Writer(W, H, greyscale=True, bitdepth=2, transparent=1).write(open(f"{out}/gray2_key.png", "wb"),
    [[3 if ink[y][x] else 1 for x in range(W)] for y in range(H)])
print("wrote", len(os.listdir(out)), "fixtures to", out)
