#!/bin/sh
# test-cli.sh — overpaint-cli end to end on the sample photos (TAP)
#
# Copyright 2026 The Overpaint developers
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: test-cli.sh path/to/overpaint-cli
# Env:   OVERPAINT_SAMPLES  folder with coffee.png (default: data/samples of the source tree)

set -u

CLI=${1:?usage: test-cli.sh path/to/overpaint-cli}
HERE=$(cd "$(dirname "$0")" && pwd)
SAMPLES=${OVERPAINT_SAMPLES:-$HERE/../data/samples}
PICTURE=$SAMPLES/coffee.png
PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/test-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

n=0
failed=0

ok ()
{
  n=$((n + 1))
  echo "ok $n - $1"
}

not_ok ()
{
  n=$((n + 1))
  failed=$((failed + 1))
  echo "not ok $n - $1"
  if [ -s "$WORK/stderr" ]; then
    sed 's/^/# /' "$WORK/stderr"
  fi
}

# check DESCRIPTION EXPECTED-STATUS COMMAND...: runs the command, stderr into $WORK/stderr
check ()
{
  desc=$1
  expected=$2
  shift 2
  "$@" > "$WORK/stdout" 2> "$WORK/stderr"
  status=$?
  if [ "$status" -eq "$expected" ]; then
    ok "$desc"
  else
    echo "# exit status $status, expected $expected"
    not_ok "$desc"
  fi
}

# png.py: PNG helpers with the Python standard library only (no numpy, no OpenCV)
cat > "$WORK/png.py" << 'EOF'
import struct, sys, zlib

def read(path):
    data = open(path, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat = 8, b''
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            width, height, depth, ctype = struct.unpack('>IIBB', body[:10])
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    assert depth == 8, 'only 8-bit PNGs'
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    rgb = [[tuple(r[x * bpp:x * bpp + min(bpp, 3)]) if bpp >= 3 else (r[x * bpp],) * 3
            for x in range(width)] for r in rows]
    return width, height, rgb

def write_gray(path, width, height, pixel):
    raw = b''.join(b'\0' + bytes(pixel(x, y) for x in range(width)) for y in range(height))
    def chunk(kind, body):
        return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body))
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))

def main():
    cmd = sys.argv[1]
    if cmd == 'size':
        w, h, _ = read(sys.argv[2])
        print(w, h)
    elif cmd == 'mask':  # mask PATH W H X0 Y0 X1 Y1: white rectangle
        w, h, x0, y0, x1, y1 = map(int, sys.argv[3:9])
        write_gray(sys.argv[2], w, h, lambda x, y: 255 if x0 <= x < x1 and y0 <= y < y1 else 0)
    elif cmd == 'white':
        w, h = map(int, sys.argv[3:5])
        write_gray(sys.argv[2], w, h, lambda x, y: 255)
    elif cmd == 'same-outside':  # same-outside A B MASK: A and B equal where MASK is black
        _, _, a = read(sys.argv[2])
        _, _, b = read(sys.argv[3])
        _, _, m = read(sys.argv[4])
        bad = sum(1 for y, row in enumerate(m) for x, v in enumerate(row)
                  if v[0] == 0 and a[y][x] != b[y][x])
        changed = sum(1 for y, row in enumerate(m) for x, v in enumerate(row)
                      if v[0] != 0 and a[y][x] != b[y][x])
        print(bad, changed)
        sys.exit(0 if bad == 0 and changed > 0 else 1)
    elif cmd == 'same-far':  # same-far A B MASK D: equal farther than D px from any white
        w, h, a = read(sys.argv[2])
        _, _, b = read(sys.argv[3])
        _, _, m = read(sys.argv[4])
        d = int(sys.argv[5])
        white = [(x, y) for y, row in enumerate(m) for x, v in enumerate(row) if v[0] != 0]
        x0 = min(x for x, _ in white) - d; x1 = max(x for x, _ in white) + d
        y0 = min(y for _, y in white) - d; y1 = max(y for _, y in white) + d
        bad = sum(1 for y in range(h) for x in range(w)
                  if not (x0 <= x <= x1 and y0 <= y <= y1) and a[y][x] != b[y][x])
        print(bad)
        sys.exit(0 if bad == 0 else 1)
    elif cmd == 'same-region':  # same-region SMALL BIG DX DY [INSET]: SMALL equals BIG at offset
        w, h, a = read(sys.argv[2])
        _, _, b = read(sys.argv[3])
        dx, dy = int(sys.argv[4]), int(sys.argv[5])
        inset = int(sys.argv[6]) if len(sys.argv) > 6 else 0
        bad = sum(1 for y in range(inset, h - inset) for x in range(inset, w - inset)
                  if a[y][x] != b[y + dy][x + dx])
        print(bad)
        sys.exit(0 if bad == 0 else 1)
    elif cmd == 'text':  # text PNG KEY: prints a tEXt/iTXt chunk
        data = open(sys.argv[2], 'rb').read()
        pos = 8
        while pos < len(data):
            length, kind = struct.unpack('>I4s', data[pos:pos + 8])
            body = data[pos + 8:pos + 8 + length]
            if kind in (b'tEXt', b'iTXt'):
                key, _, rest = body.partition(b'\0')
                if key.decode('latin-1') == sys.argv[3]:
                    if kind == b'iTXt':
                        rest = rest[2:].split(b'\0', 2)[2]
                    print(rest.decode('utf-8'))
                    sys.exit(0)
            pos += 12 + length
        sys.exit(1)

main()
EOF

png ()
{
  "$PYTHON" "$WORK/png.py" "$@"
}

if [ ! -f "$PICTURE" ]; then
  echo "1..0 # SKIP no sample picture at $PICTURE"
  exit 0
fi

MASK=$WORK/mask.png
png mask "$MASK" 600 400 240 150 330 230
png mask "$WORK/small-mask.png" 300 200 10 10 20 20
png white "$WORK/white.png" 600 400
png mask "$WORK/black.png" 600 400 0 0 0 0
echo "not a picture" > "$WORK/text.png"

# --- usage
check "--help exits 0" 0 "$CLI" --help
check "no command is a usage error" 2 "$CLI"
check "an unknown command is a usage error" 2 "$CLI" frobnicate
check "inpaint --help exits 0" 0 "$CLI" inpaint --help

# --- inpaint
check "inpaint with a seed" 0 "$CLI" inpaint --image "$PICTURE" --mask "$MASK" \
  --output "$WORK/a.png" --seed 7 --mask-grow 0 --mask-blur 0
if grep -q " 7$" "$WORK/stderr"; then ok "the seed is printed on stderr"; else not_ok "the seed is printed on stderr"; fi
if grep -q "$(printf '\r')" "$WORK/stderr"; then
  not_ok "no progress line when stderr is not a terminal"
else
  ok "no progress line when stderr is not a terminal"
fi
if [ "$(png size "$WORK/a.png")" = "600 400" ]; then ok "the output has the picture's size"; else not_ok "the output has the picture's size"; fi
if png same-outside "$PICTURE" "$WORK/a.png" "$MASK" > "$WORK/stderr" 2>&1; then
  ok "pixels outside the mask are unchanged, the hole is filled"
else
  not_ok "pixels outside the mask are unchanged, the hole is filled"
fi

check "the same seed again" 0 "$CLI" inpaint -q --image "$PICTURE" --mask "$MASK" \
  --output "$WORK/b.png" --seed 7 --mask-grow 0 --mask-blur 0
if cmp -s "$WORK/a.png" "$WORK/b.png"; then ok "the same seed gives the same file"; else not_ok "the same seed gives the same file"; fi

check "no seed: a random one" 0 "$CLI" inpaint --image "$PICTURE" --mask "$MASK" --output "$WORK/r.png"
if grep -qi "seed" "$WORK/stderr"; then ok "the random seed is printed"; else not_ok "the random seed is printed"; fi

check "--backend local" 0 "$CLI" inpaint -q --backend local --image "$PICTURE" --mask "$MASK" \
  --output "$WORK/local.png" --seed 7 --mask-grow 0 --mask-blur 0
if cmp -s "$WORK/a.png" "$WORK/local.png"; then ok "local is the default backend"; else not_ok "local is the default backend"; fi
check "an unknown backend is a usage error" 2 "$CLI" inpaint --backend nosuch --image "$PICTURE" \
  --mask "$MASK" --output "$WORK/x.png"
if grep -q "local" "$WORK/stderr" && grep -q "automatic1111" "$WORK/stderr"; then
  ok "the message names the available backends"
else
  not_ok "the message names the available backends"
fi
check "--api-auth with the built-in fill is exit 2" 2 "$CLI" inpaint --image "$PICTURE" \
  --mask "$MASK" --output "$WORK/x.png" --api-auth user:pass
check "a remote backend that cannot be reached fails: exit 1" 1 "$CLI" inpaint -q \
  --backend automatic1111 --url http://127.0.0.1:9 --prompt "a table" --image "$PICTURE" \
  --mask "$MASK" --output "$WORK/x.png"
if grep -q "127.0.0.1:9" "$WORK/stderr"; then
  ok "the failure names the address it tried"
else
  not_ok "the failure names the address it tried"
fi

# --- variants
check "three variants into {n}" 0 "$CLI" inpaint -q --image "$PICTURE" --mask "$MASK" \
  --output "$WORK/v-{n}.png" --seed 7 --variants 3 --mask-grow 0 --mask-blur 0
if [ -f "$WORK/v-1.png" ] && [ -f "$WORK/v-2.png" ] && [ -f "$WORK/v-3.png" ]; then
  ok "variant files 1 to 3 are written"
else
  not_ok "variant files 1 to 3 are written"
fi
if cmp -s "$WORK/v-1.png" "$WORK/a.png"; then ok "variant 1 uses the seed"; else not_ok "variant 1 uses the seed"; fi
"$CLI" inpaint -q --image "$PICTURE" --mask "$MASK" --output "$WORK/s8.png" --seed 8 \
  --mask-grow 0 --mask-blur 0 2> "$WORK/stderr"
if cmp -s "$WORK/v-2.png" "$WORK/s8.png"; then ok "variant 2 uses seed + 1"; else not_ok "variant 2 uses seed + 1"; fi
if cmp -s "$WORK/v-2.png" "$WORK/v-3.png"; then not_ok "variants differ"; else ok "variants differ"; fi
check "two variants without {n}" 0 "$CLI" inpaint -q --image "$PICTURE" --mask "$MASK" \
  --output "$WORK/w.png" --seed 1 --variants 2
if [ -f "$WORK/w-1.png" ] && [ -f "$WORK/w-2.png" ]; then
  ok "-N goes before the extension"
else
  not_ok "-N goes before the extension"
fi
check "zero variants is a usage error" 2 "$CLI" inpaint --image "$PICTURE" --mask "$MASK" \
  --output "$WORK/x.png" --variants 0
check "nine variants is a usage error" 2 "$CLI" inpaint --image "$PICTURE" --mask "$MASK" \
  --output "$WORK/x.png" --variants 9

# --- bad input
check "a missing picture is exit 2" 2 "$CLI" inpaint --image "$WORK/nope.png" --mask "$MASK" \
  --output "$WORK/x.png"
check "a text file is exit 2" 2 "$CLI" inpaint --image "$WORK/text.png" --mask "$MASK" \
  --output "$WORK/x.png"
check "a mask of the wrong size is exit 2" 2 "$CLI" inpaint --image "$PICTURE" \
  --mask "$WORK/small-mask.png" --output "$WORK/x.png"
if grep -q "300" "$WORK/stderr"; then ok "the size error gives the sizes"; else not_ok "the size error gives the sizes"; fi
check "no --mask is exit 2" 2 "$CLI" inpaint --image "$PICTURE" --output "$WORK/x.png"
check "no --output is exit 2" 2 "$CLI" inpaint --image "$PICTURE" --mask "$MASK"
check "a stray argument is exit 2" 2 "$CLI" inpaint --image "$PICTURE" --mask "$MASK" \
  --output "$WORK/x.png" extra
check "a bad seed is exit 2" 2 "$CLI" inpaint --image "$PICTURE" --mask "$MASK" \
  --output "$WORK/x.png" --seed minus-one
check "an all-white mask fails the fill: exit 1" 1 "$CLI" inpaint --image "$PICTURE" \
  --mask "$WORK/white.png" --output "$WORK/x.png"
if [ -s "$WORK/stderr" ]; then ok "the failure is explained on stderr"; else not_ok "the failure is explained on stderr"; fi
check "an unwritable output is exit 1" 1 "$CLI" inpaint -q --image "$PICTURE" --mask "$MASK" \
  --output "$WORK/no/such/folder/x.png"

# --- the editor's defaults: grown and feathered, still untouched beyond the blend
check "inpaint with the default grow and feather" 0 "$CLI" inpaint -q --image "$PICTURE" \
  --mask "$MASK" --output "$WORK/d.png" --seed 7
if png same-far "$PICTURE" "$WORK/d.png" "$MASK" 40 > "$WORK/stderr" 2>&1; then
  ok "beyond grow and feather nothing changes"
else
  not_ok "beyond grow and feather nothing changes"
fi
if png text "$WORK/d.png" parameters 2> /dev/null | grep -q "Seed: 7"; then
  ok "the parameters text chunk names the seed"
else
  not_ok "the parameters text chunk names the seed"
fi
if png text "$WORK/d.png" XML:com.adobe.xmp 2> /dev/null | grep -q compositeWithTrainedAlgorithmicMedia; then
  ok "the XMP packet names the digital source type"
else
  not_ok "the XMP packet names the digital source type"
fi
check "--context whole" 0 "$CLI" inpaint -q --image "$PICTURE" --mask "$MASK" \
  --output "$WORK/whole.png" --seed 7 --context whole --padding 0 --no-color-match
check "a bad --context is exit 2" 2 "$CLI" inpaint --image "$PICTURE" --mask "$MASK" \
  --output "$WORK/x.png" --context everything
check "--url with the built-in fill is exit 2" 2 "$CLI" inpaint --image "$PICTURE" \
  --mask "$MASK" --output "$WORK/x.png" --url http://127.0.0.1:7860
check "--prompt with the built-in fill still works" 0 "$CLI" inpaint --image "$PICTURE" \
  --mask "$MASK" --output "$WORK/p.png" --seed 7 --prompt "a wooden table" --steps 20
if grep -q -- "--prompt" "$WORK/stderr" && grep -q -- "--steps" "$WORK/stderr"; then
  ok "unused options are named on stderr, never dropped silently"
else
  not_ok "unused options are named on stderr, never dropped silently"
fi
check "a feather out of range is exit 2" 2 "$CLI" inpaint --image "$PICTURE" --mask "$MASK" \
  --output "$WORK/x.png" --mask-blur 100000
check "a strength out of range is exit 2" 2 "$CLI" inpaint --image "$PICTURE" --mask "$MASK" \
  --output "$WORK/x.png" --strength 3
check "an all-black mask: nothing to do, exit 1" 1 "$CLI" inpaint --image "$PICTURE" \
  --mask "$WORK/black.png" --output "$WORK/x.png"

# --- outpaint
check "outpaint" 0 "$CLI" outpaint -q --image "$PICTURE" --left 10 --right 40 --top 5 \
  --bottom 30 --output "$WORK/o.png" --seed 3
if [ "$(png size "$WORK/o.png")" = "650 435" ]; then ok "outpaint adds the margins"; else not_ok "outpaint adds the margins"; fi
# the overlap band (16 px), the grow (4) and the feather (8) regenerate the seam
if png same-region "$PICTURE" "$WORK/o.png" 10 5 48 > "$WORK/stderr" 2>&1; then
  ok "the original is unchanged inside the outpainted picture"
else
  not_ok "the original is unchanged inside the outpainted picture"
fi
check "a negative margin is exit 2" 2 "$CLI" outpaint --image "$PICTURE" --left -4 \
  --output "$WORK/x.png"
check "outpaint of a missing picture is exit 2" 2 "$CLI" outpaint --image "$WORK/nope.png" \
  --right 10 --output "$WORK/x.png"

echo "1..$n"
[ "$failed" -eq 0 ]
