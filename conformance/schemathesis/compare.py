#!/usr/bin/env python3
"""Compares the failures of schemathesis NDJSON reports with baseline.json.

A failure is identified by (operation, check, status code of the response).
Every failure must be listed in the baseline, which holds only defects of the
5.6.1 document, each with its evidence. Anything else, any scenario that
ended in an error, or a run that did not finish, makes this script exit 1.

Usage: compare.py BASELINE.json REPORT.ndjson [REPORT.ndjson ...]
"""
import json
import sys


def load_baseline(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    entries = {}
    for e in doc["entries"]:
        for key in ("operation", "check", "status", "defect", "evidence"):
            if key not in e:
                sys.exit(f"baseline entry without '{key}': {e}")
        entries[(e["operation"], e["check"], int(e["status"]))] = e
    return entries


def read_report(path, failures, errors, stats):
    finished = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            event = json.loads(line)
            if "EngineFinished" in event:
                finished = True
                stats["stop_reason"] = event["EngineFinished"].get("stop_reason")
            sc = event.get("ScenarioFinished")
            if not sc:
                continue
            label = sc.get("recorder", {}).get("label", "?")
            stats["scenarios"] += 1
            if sc.get("status") == "error":
                errors.append(label)
            recorder = sc.get("recorder", {})
            interactions = recorder.get("interactions", {})
            for case_id, checks in recorder.get("checks", {}).items():
                stats["cases"] += 1
                resp = (interactions.get(case_id) or {}).get("response") or {}
                status = resp.get("status_code", 0)
                for c in checks:
                    stats["checks"] += 1
                    if c.get("status") != "failure":
                        continue
                    info = (c.get("failure_info") or {}).get("failure") or {}
                    op = info.get("operation") or label
                    key = (op, c["name"], status)
                    failures.setdefault(key, {"code": info.get("code"), "title": info.get("title"),
                                              "message": info.get("message", ""), "count": 0})
                    failures[key]["count"] += 1
    return finished


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    baseline = load_baseline(sys.argv[1])
    failures, errors = {}, []
    stats = {"scenarios": 0, "cases": 0, "checks": 0}
    for report in sys.argv[2:]:
        try:
            finished = read_report(report, failures, errors, stats)
        except (OSError, ValueError) as e:
            print(f"FAIL: cannot read the report {report}: {e}")
            return 1
        if not finished:
            print(f"FAIL: {report}: the schemathesis run did not finish")
            return 1
    if stats["cases"] == 0:
        print("FAIL: the reports hold no test case")
        return 1
    expected = {k: v for k, v in failures.items() if k in baseline}
    unexpected = {k: v for k, v in failures.items() if k not in baseline}
    print(f"schemathesis: {stats['cases']} test cases, {stats['checks']} checks, "
          f"{len(failures)} distinct failures ({len(expected)} listed document defects, "
          f"{len(unexpected)} unexpected), {len(errors)} errored scenarios")
    for (op, check, status), f in sorted(expected.items()):
        print(f"  listed   {op} | {check} | HTTP {status} | defect: {baseline[(op, check, status)]['defect']}")
    for (op, check, status), f in sorted(unexpected.items()):
        msg = " ".join(f["message"].split())[:200]
        print(f"  UNEXPECTED {op} | {check} ({f['code']} {f['title']}) | HTTP {status} | {msg}")
    for label in errors:
        print(f"  ERROR    {label}")
    for key in sorted(set(baseline) - set(failures)):
        print(f"  not reproduced this run (kept listed): {' | '.join(map(str, key))}")
    if unexpected or errors:
        print("FAIL: failures outside the baseline of document defects")
        return 1
    print("OK: every failure is a listed defect of the 5.6.1 document")
    return 0


if __name__ == "__main__":
    sys.exit(main())
