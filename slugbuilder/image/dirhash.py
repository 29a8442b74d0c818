"""Prints the Go module hash ("h1:...", golang.org/x/mod/sumdb/dirhash
Hash1) of a module zip, to check a download against sum.golang.org."""

import base64
import hashlib
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as z:
    lines = []
    for name in sorted(n for n in z.namelist() if not n.endswith("/")):
        h = hashlib.sha256()
        with z.open(name) as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        lines.append(f"{h.hexdigest()}  {name}\n")
summary = hashlib.sha256("".join(lines).encode()).digest()
print("h1:" + base64.b64encode(summary).decode())
