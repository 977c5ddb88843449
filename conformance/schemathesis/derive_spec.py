#!/usr/bin/env python3
"""Writes a test copy of the MetaDefender Core 5.6.1 document for schemathesis.

Two mechanical changes, both about the document's own defects (see baseline.json
and docs/conformance-schemathesis.md), nothing about the API itself:
  * every `links` object is dropped: they name operationIds that do not exist
    (getAPIkey, getBatchId), which makes schemathesis abandon its stateful phase;
  * examples of header parameters are put on one line: a header value cannot
    hold a newline, so the multi-line `engines-metadata` example is unusable.

Usage: derive_spec.py SOURCE.json DEST.json
"""
import json
import sys


def drop_links(node):
    if isinstance(node, dict):
        node.pop("links", None)
        for v in node.values():
            drop_links(v)
    elif isinstance(node, list):
        for v in node:
            drop_links(v)


def one_line(value):
    if isinstance(value, str) and ("\n" in value or "\r" in value):
        try:
            return json.dumps(json.loads(value), separators=(",", ":"))
        except ValueError:
            return " ".join(value.split())
    return value


def fix_header_param(p):
    if not isinstance(p, dict) or p.get("in") != "header":
        return 0
    n = 0
    if "example" in p:
        new = one_line(p["example"])
        n += new != p["example"]
        p["example"] = new
    for ex in (p.get("examples") or {}).values():
        if isinstance(ex, dict) and "value" in ex:
            new = one_line(ex["value"])
            n += new != ex["value"]
            ex["value"] = new
    schema = p.get("schema")
    if isinstance(schema, dict) and "example" in schema:
        new = one_line(schema["example"])
        n += new != schema["example"]
        schema["example"] = new
    return n


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    drop_links(doc)
    changed = 0
    for p in (doc.get("components", {}).get("parameters") or {}).values():
        changed += fix_header_param(p)
    for item in doc.get("paths", {}).values():
        for p in item.get("parameters", []) or []:
            changed += fix_header_param(p)
        for op in item.values():
            if isinstance(op, dict):
                for p in op.get("parameters", []) or []:
                    changed += fix_header_param(p)
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(doc, f)
    print(f"derived {sys.argv[2]}: links dropped, {changed} header example(s) put on one line")


if __name__ == "__main__":
    main()
