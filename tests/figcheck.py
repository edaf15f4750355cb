"""Independent checks of figure files and of a page rendered by a real browser.

* `png_info`: a PNG read chunk by chunk with the standard library (signature, IHDR first and
  CRC-checked, IDAT present, IEND last): the size matplotlib claims is the size in the file.
* `svg_size_pt`: an SVG parsed as XML, root in the SVG namespace, its width and height in points.
* `Chromium`: headless Debian ``chromium``; `probe` loads a copy of a page with a small script
  that reports, after the load event, the page height and every image's decoded size and
  position; `screenshot` captures the page at that height. Both run with a fresh profile, no
  network services, and a time limit, and leave no process behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = "http://www.w3.org/2000/svg"


def png_info(path) -> dict:
    """``{"width", "height", "bit_depth", "color_type", "chunks"}``; raises AssertionError if invalid."""
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path}: not a PNG signature: {data[:8]!r}"
    pos, chunks = 8, []
    while pos < len(data):
        assert pos + 8 <= len(data), f"{path}: truncated chunk header at {pos}"
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, f"{path}: bad CRC in {kind!r}"
        chunks.append((kind.decode("ascii"), body))
        pos += 12 + length
    names = [k for k, _ in chunks]
    assert names[0] == "IHDR" and names[-1] == "IEND" and "IDAT" in names, f"{path}: chunks {names}"
    width, height, depth, color = struct.unpack(">IIBB", chunks[0][1][:10])
    return {"width": width, "height": height, "bit_depth": depth, "color_type": color, "chunks": names}


def svg_size_pt(path) -> tuple[float, float]:
    """The SVG's ``(width, height)`` in points; raises AssertionError unless it is an SVG document."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{{{SVG_NS}}}svg", f"{path}: root element is {root.tag}"

    def pt(v: str) -> float:
        m = re.fullmatch(r"([0-9.]+)(pt|px)?", v.strip())
        assert m, f"{path}: unreadable size {v!r}"
        return float(m.group(1)) * (0.75 if m.group(2) == "px" else 1.0)

    return pt(root.get("width")), pt(root.get("height"))


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


PROBE = """<script>
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.images);
  var out = {height: document.documentElement.scrollHeight, width: document.documentElement.scrollWidth,
             images: imgs.map(function (im) {
               var r = im.getBoundingClientRect();
               return {id: im.parentElement.id, ok: im.complete && im.naturalWidth > 0,
                       natural: [im.naturalWidth, im.naturalHeight],
                       box: [r.left + window.scrollX, r.top + window.scrollY, r.width, r.height]};
             })};
  var pre = document.createElement("pre");
  pre.id = "fastact-probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


class Chromium:
    FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--force-device-scale-factor=1", "--hide-scrollbars"]

    def __init__(self, path: str, timeout: float = 120.0):
        self.path, self.timeout = path, timeout

    def _run(self, *args) -> str:
        profile = tempfile.mkdtemp(prefix="fastact-chromium-")
        try:
            proc = subprocess.Popen([self.path, *self.FLAGS, f"--user-data-dir={profile}", *args],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                    start_new_session=True)
            try:
                out, _ = proc.communicate(timeout=self.timeout)
            finally:
                # The browser's helper processes share its session: end them all, whatever happened.
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
            return out
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    def probe(self, page: Path, width: int) -> dict:
        """Load a copy of ``page`` (beside it) with `PROBE` added; what it reported after loading."""
        text = page.read_text(encoding="utf-8")
        copy = page.with_name(f".probe-{page.name}")
        copy.write_text(text.replace("</body>", PROBE + "</body>"), encoding="utf-8")
        try:
            dom = self._run(f"--window-size={width},800", "--dump-dom", copy.as_uri())
        finally:
            copy.unlink()
        m = re.search(r'<pre id="fastact-probe">(.*?)</pre>', dom, re.S)
        assert m, f"the probe did not report (dump: {dom[:300]!r})"
        return json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))

    def screenshot(self, page: Path, width: int, height: int, out: Path) -> Path:
        self._run(f"--window-size={width},{height}", f"--screenshot={out}", page.as_uri())
        assert out.is_file(), f"chromium wrote no screenshot to {out}"
        return out
