"""The seed's own filter stack, for `npm run bench:seed` (bench/seed.ts drives it).

Pillow for resize/blur/brightness, native OpenCV (cv2) for sharpen and edges, as the seed's
Python project does: decode -> filter -> JPEG q90 encode, one process, one OpenCV thread.
Protocol: argv[1] is the image; each stdin line is a comma-separated filter chain; each
reply is one JSON line {"wall_ms", "cpu_ms", "bytes", "stages_ms"} (stages_ms: decode, each
filter and encode, for the OpenCV chains; empty for Pillow's). An empty line ends it.
"""
import io
import json
import sys
import time

try:
    import cv2
    import numpy as np
    from PIL import Image, ImageEnhance, ImageFilter
except ImportError as e:  # bench/seed.ts names the packages to install
    print(json.dumps({"missing": str(e)}), flush=True)
    sys.exit(2)

cv2.setNumThreads(1)
Q = 90
SHARPEN = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32)


def pillow(data, op):
    img = Image.open(io.BytesIO(data)).convert("RGB")
    img = op(img)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=Q)
    return out.getvalue()


def opencv(data, chain, stages):
    t = time.perf_counter()

    def stage(name):
        nonlocal t
        now = time.perf_counter()
        stages[name] = stages.get(name, 0) + (now - t) * 1000
        t = now

    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    stage("decode")
    for name in chain:
        if name == "sharpen":
            img = cv2.filter2D(img, -1, SHARPEN)
        elif name == "edges":
            grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            img = cv2.Canny(cv2.GaussianBlur(grey, (5, 5), 0), 50, 150)
        else:
            raise ValueError(name)
        stage(name)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, Q])
    stage("encode")
    return buf.tobytes()


PILLOW = {
    "resize": lambda im: im.resize((800, 600)),
    "blur": lambda im: im.filter(ImageFilter.GaussianBlur(3)),
    "brightness": lambda im: ImageEnhance.Brightness(im).enhance(1.5),
}


def run(data, chain, stages):
    if len(chain) == 1 and chain[0] in PILLOW:
        return pillow(data, PILLOW[chain[0]])
    return opencv(data, chain, stages)


def main():
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    print(json.dumps({"ready": True, "opencv": cv2.__version__}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            break
        stages = {}
        w0, c0 = time.perf_counter(), time.process_time()
        out = run(data, line.split(","), stages)
        w1, c1 = time.perf_counter(), time.process_time()
        print(json.dumps({"wall_ms": (w1 - w0) * 1000, "cpu_ms": (c1 - c0) * 1000, "bytes": len(out), "stages_ms": stages}), flush=True)


main()
