# fill_bench_lib.py — cases, anchors and metrics for tests/bench/fill-bench
#
# Copyright 2026 The Overpaint developers
#
# SPDX-License-Identifier: GPL-3.0-or-later

"""Helpers for fill-bench: deterministic masks, the anchor fills (OpenCV, G'MIC) and
quality metrics measured over the hole only."""

import os
import re
import statistics
import subprocess
import tempfile
import time

import cv2
import numpy as np

# What the fill alone does, through the same pipeline as the editor: no grow, no feather,
# the whole picture as context (sources from everywhere), no colour matching.
PURE_FILL = ["--mask-grow", "0", "--mask-blur", "0", "--context", "whole", "--padding", "0",
             "--no-color-match"]
from skimage.metrics import structural_similarity

# ---------------------------------------------------------------------------- masks


def stroke_mask(h, w, fraction=0.10, seed=1):
    """Brush strokes (anti-aliased polylines) until `fraction` of the pixels are hit."""
    rng = np.random.default_rng(seed)
    m = np.zeros((h, w), np.uint8)
    side = min(h, w)
    while np.count_nonzero(m) < fraction * h * w:
        n = int(rng.integers(3, 7))
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        angle = rng.uniform(0, 2 * np.pi)
        pts = []
        for _ in range(n):
            pts.append((x, y))
            angle += rng.normal(0, 0.6)
            step = rng.uniform(0.08, 0.2) * side
            x = float(np.clip(x + step * np.cos(angle), 0, w - 1))
            y = float(np.clip(y + step * np.sin(angle), 0, h - 1))
        thickness = int(rng.integers(max(3, side // 60), max(4, side // 22)))
        pts = np.array(pts, np.int32).reshape(-1, 1, 2)
        cv2.polylines(m, [pts], False, 255, thickness, lineType=cv2.LINE_AA)
    return m


def blob_mask(h, w, fraction=0.20, seed=1):
    """One irregular object-like blob covering about `fraction` of the picture."""
    rng = np.random.default_rng(seed)
    n = 64
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    # smooth random radius: a few low harmonics
    r = np.ones(n)
    for k in range(2, 6):
        r += rng.uniform(-0.12, 0.12) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    cx = w * rng.uniform(0.4, 0.6)
    cy = h * rng.uniform(0.4, 0.6)
    aspect = rng.uniform(0.75, 1.3)
    lo, hi = 1.0, float(max(h, w))
    for _ in range(40):  # bisect the scale to hit the area
        s = (lo + hi) / 2
        pts = np.stack([cx + s * aspect * r * np.cos(theta),
                        cy + s / aspect * r * np.sin(theta)], 1)
        m = np.zeros((h, w), np.uint8)
        cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 255, lineType=cv2.LINE_AA)
        if np.count_nonzero(m) > fraction * h * w:
            hi = s
        else:
            lo = s
    return m


def mosaic(samples, names, size):
    """A size×size picture made of the samples scaled into a 2×2 grid."""
    half = size // 2
    tiles = []
    for name in names:
        img = cv2.imread(os.path.join(samples, name + '.png'), cv2.IMREAD_COLOR)
        tiles.append(cv2.resize(img, (half, half), interpolation=cv2.INTER_CUBIC))
    top = np.hstack(tiles[0:2])
    bottom = np.hstack(tiles[2:4])
    return np.vstack([top, bottom])


# ---------------------------------------------------------------------------- metrics


def _gray(img):
    return img[..., :3].astype(np.float64).mean(axis=2)


def _pair_diffs(g, hole, inside):
    """Mean |g(p) - g(q)| over 4-neighbour pairs: both in the hole (inside=True) or
    exactly one of them (inside=False, across the hole's border)."""
    total, count = 0.0, 0
    for a, b, ha, hb in ((g[:, 1:], g[:, :-1], hole[:, 1:], hole[:, :-1]),
                         (g[1:, :], g[:-1, :], hole[1:, :], hole[:-1, :])):
        sel = (ha & hb) if inside else (ha != hb)
        d = np.abs(a - b)[sel]
        total += d.sum()
        count += d.size
    return total / max(count, 1)


def quality(result, truth, hole, with_ssim=True):
    """PSNR, SSIM, texture ratio and seam ratio over the hole only."""
    res = result[..., :3].astype(np.float64)
    tru = truth[..., :3].astype(np.float64)
    mse = ((res - tru) ** 2)[hole].mean()
    psnr = 10 * np.log10(255.0 ** 2 / max(mse, 1e-10))
    ssim = float('nan')
    if with_ssim:
        _, smap = structural_similarity(truth[..., :3], result[..., :3], channel_axis=2,
                                        data_range=255, full=True)
        ssim = smap[hole].mean()
    gr, gt = _gray(result), _gray(truth)
    texture = _pair_diffs(gr, hole, True) / max(_pair_diffs(gt, hole, True), 1e-9)
    seam = _pair_diffs(gr, hole, False) / max(_pair_diffs(gt, hole, False), 1e-9)
    return {'psnr': psnr, 'ssim': ssim, 'texture': texture, 'seam': seam}


# ---------------------------------------------------------------------------- runners


def timed(fn, runs):
    """Median wall time of `runs` calls; returns (seconds, last result)."""
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def max_rss_kb(cmd, env=None):
    """Runs cmd under /usr/bin/time -v; returns (wall seconds, max RSS in KiB, output).
    (GLib writes debug messages to stdout, so the output is stdout and stderr.)"""
    t0 = time.perf_counter()
    p = subprocess.run(['/usr/bin/time', '-v'] + cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError('%s failed: %s' % (cmd[0], p.stderr[-2000:]))
    m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', p.stderr)
    return wall, int(m.group(1)) if m else -1, p.stdout + p.stderr


class Runner:
    def __init__(self, cli, workdir, threads=0):
        self.cli = cli
        self.workdir = workdir
        self.threads = threads

    def _path(self, name):
        return os.path.join(self.workdir, name)

    def _ours(self, cmd, out_path):
        """Runs the CLI; returns (result, fill seconds as the CLI reports them)."""
        # the pure fill: no grow, no feather, the whole picture as context, no colour match
        # (an explicit --mask-grow given before wins: GOption takes the last one, so it goes last)
        cmd = cmd[:1] + cmd[1:2] + PURE_FILL + cmd[2:]
        p = subprocess.run(cmd, check=True, capture_output=True, text=True)
        m = re.search(r'generated in ([0-9.]+) s', p.stderr)
        return cv2.imread(out_path, cv2.IMREAD_COLOR), float(m.group(1)) if m else float('nan')

    def ours_inpaint(self, img_path, mask_path, out_path, seed=1):
        return self._ours([self.cli, 'inpaint', '--image', img_path, '--mask', mask_path,
                           '--output', out_path, '--seed', str(seed)], out_path)

    def ours_outpaint(self, img_path, right, bottom, out_path, seed=1):
        # The editor regenerates a 16 px band of the original along an extended edge so the
        # seam blends; the anchors have no such band, and the bench pastes the original back
        # outside the hole, so shrinking by 16 takes the band away and measures the fill
        # alone (a shrink never moves the canvas border, so the margins stay whole).
        cmd = [self.cli, 'outpaint', '--image', img_path, '--right', str(right),
               '--bottom', str(bottom), '--output', out_path, '--seed', str(seed)]
        return self._ours(cmd + ['--mask-grow', '-16'], out_path)

    @staticmethod
    def telea(img, mask):
        return cv2.inpaint(img, mask, 3, cv2.INPAINT_TELEA)

    @staticmethod
    def navier_stokes(img, mask):
        return cv2.inpaint(img, mask, 3, cv2.INPAINT_NS)

    def gmic(self, img_path, mask_path, out_path, command):
        """command: 'matchpatch' (-inpaint_matchpatch) or 'patch' (-inpaint with a patch
        size: the patch-based inpaint that newer G'MIC calls inpaint_patch)."""
        if command == 'matchpatch':
            op = '-inpaint_matchpatch[0]', '[1]'
        else:
            op = '-inpaint[0]', '[1],9,22,0.5,1,9,0'
        cmd = ['gmic', '-v', '-', '-input', img_path, '-input', mask_path,
               '-threshold[1]', '1', op[0], op[1], '-output[0]', out_path]
        subprocess.run(cmd, check=True, capture_output=True)
        return cv2.imread(out_path, cv2.IMREAD_COLOR)


def write_png(path, img):
    if not cv2.imwrite(path, img):
        raise RuntimeError('could not write ' + path)


def tmpdir():
    return tempfile.mkdtemp(prefix='fill-bench-')
