#!/usr/bin/env python3
"""Validates the simulator's real results against the 5.6.1 response schemas.

schemathesis only ever sees results for data ids it invents (not-found answers);
this script uploads real files (clean, infected, suspicious, a zip with children,
a sanitized file, a batch), catches each result while queued, scanning,
post-processing and done, and validates every body with jsonschema_rs (installed
with schemathesis) against the schema the document gives for that operation.

Usage: validate_results.py SPEC.json BASE_URL APIKEY
"""
import io
import json
import sys
import time
import urllib.error
import urllib.request
import zipfile

import jsonschema_rs


def eicar():
    # Assembled from pieces so that no source file holds the test string whole.
    return ("X5O!P%@AP" + "[4\\PZX54(P^)7CC)7}$" + "EICAR" + "-STANDARD-" + "ANTIVIRUS"
            + "-TEST-FILE!" + "$H+" + "H*").encode()


class Checker:
    def __init__(self, spec_path, base, apikey):
        with open(spec_path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.base = base
        self.apikey = apikey
        self.validated = 0
        self.problems = []
        self.cache = {}
        self.states = set()

    def validator(self, path, method, status="200"):
        key = (path, method, status)
        if key not in self.cache:
            resp = self.doc["paths"][path][method]["responses"][status]
            if "$ref" in resp:
                resp = self.doc["components"]["responses"][resp["$ref"].split("/")[-1]]
            schema = dict(resp["content"]["application/json"]["schema"])
            # Keep the document's components reachable for "#/components/..." references.
            schema["components"] = self.doc["components"]
            self.cache[key] = jsonschema_rs.Draft4Validator(schema)
        return self.cache[key]

    def request(self, method, path, body=None, headers=None):
        h = {"apikey": self.apikey}
        h.update(headers or {})
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def check(self, label, template, method, status, raw):
        if status != 200:
            self.problems.append(f"{label}: HTTP {status}: {raw[:200]!r}")
            return None
        body = json.loads(raw)
        errors = list(self.validator(template, method).iter_errors(body))
        self.validated += 1
        for e in errors[:5]:
            self.problems.append(f"{label}: {e.message[:300]} at {list(e.instance_path)}")
        return body

    def upload(self, data, **headers):
        status, raw = self.request("POST", "/file", data, headers)
        if status != 200:
            raise SystemExit(f"upload failed: HTTP {status} {raw[:200]!r}")
        return json.loads(raw)["data_id"]

    def follow(self, label, data_id):
        """Validates the result at every state until done; answers the last body."""
        deadline = time.time() + 30
        while True:
            status, raw = self.request("GET", f"/file/{data_id}")
            body = self.check(f"{label} GET /file", "/file/{data_id}", "get", status, raw)
            if body is None:
                return None
            scan = body["scan_results"]["progress_percentage"]
            proc = body["process_info"]["progress_percentage"]
            self.states.add("queued" if scan == 0 else "scanning" if scan < 100 else
                            "post-processing" if proc < 100 else "done")
            if proc == 100:
                return body
            if time.time() > deadline:
                self.problems.append(f"{label}: not done after 30 s")
                return None
            time.sleep(0.003)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    c = Checker(*sys.argv[1:])
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.txt", b"alpha")
        z.writestr("dir/eicar.com", eicar())
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zi:
            zi.writestr("deep.txt", b"MDSIM-SUSPICIOUS")
        z.writestr("inner.zip", inner.getvalue())
    cases = {
        "clean": (b"plain text", {"filename": "plain.txt"}),
        "infected": (b"x " + eicar(), {"filename": "eicar.txt"}),
        "suspicious": (b"has MDSIM-SUSPICIOUS inside", {}),
        "archive": (zbuf.getvalue(), {"filename": "bundle.zip"}),
        "sanitized": (b"doc " + eicar(), {"rule": "sanitize", "filename": "doc.txt"}),
    }
    status, raw = c.request("POST", "/file/batch", None, {"user-data": "validate"})
    batch = json.loads(raw)["batch_id"]
    # The checker itself must reject a body that breaks the schema.
    if not list(c.validator("/file/{data_id}", "get").iter_errors({"scan_results": {"scan_all_result_i": 999}})):
        sys.exit("self-test failed: an invalid scan_all_result_i was accepted")
    batch_file = c.upload(b"in a batch", batch=batch)
    st, raw = c.request("GET", f"/file/batch/{batch}")
    c.check("batch status (in progress)", "/file/batch/{batchId}", "get", st, raw)
    for label, (data, headers) in cases.items():
        data_id = c.upload(data, **headers)
        body = c.follow(label, data_id)
        if body is None:
            continue
        st, raw = c.request("GET", f"/archive/{data_id}")
        c.check(f"{label} GET /archive", "/archive/{data_id}", "get", st, raw)
        st, raw = c.request("GET", f"/hash/{body['file_info']['sha256']}")
        c.check(f"{label} GET /hash", "/hash/{hash}", "get", st, raw)
        for child in (body.get("extracted_files") or {}).get("files_in_archive", []):
            st, raw = c.request("GET", f"/file/{child['data_id']}")
            c.check(f"{label} child GET /file", "/file/{data_id}", "get", st, raw)
    c.follow("batch file", batch_file)
    st, raw = c.request("GET", f"/file/batch/{batch}?first=0&size=10")
    c.check("batch status (done)", "/file/batch/{batchId}", "get", st, raw)
    st, raw = c.request("POST", f"/file/batch/{batch}/close")
    c.check("batch close", "/file/batch/{batchId}/close", "post", st, raw)
    # A synchronous scan answers the full result.
    st, raw = c.request("POST", "/file/sync", b"sync body", {"filename": "sync.txt"})
    c.check("POST /file/sync", "/file/sync", "post", st, raw)

    missing = {"queued", "scanning", "post-processing", "done"} - c.states
    if missing:
        c.problems.append(f"states never observed (nothing validated there): {sorted(missing)}")
    print(f"validated {c.validated} real result bodies against the 5.6.1 response schemas "
          f"(states seen: {', '.join(sorted(c.states))})")
    for p in c.problems:
        print(f"  VIOLATION {p}")
    return 1 if c.problems else 0


if __name__ == "__main__":
    sys.exit(main())
