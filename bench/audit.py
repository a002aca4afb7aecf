"""Lighthouse (mobile) and axe-core on the main pages, against Debian's chromium and the demo data (issue 16).

Starts the app with the demo data in a temporary instance folder on 127.0.0.1:PORT (5421 by default), signs in
as the demo manager, and prints for each page Lighthouse's performance, accessibility and best-practices scores
and its CLS, then axe-core's violations at 360 x 780. Stops the app by its pid.

Targets (issue 16): performance 98+, CLS under 0.05, accessibility 100, axe-core no violations.
Needs the npm packages in .cache/audit (`make audit` installs them: lighthouse, axe-core).
Usage: python bench/audit.py [--port 5421] [--pages / /alerts ...] [--no-lighthouse] [--no-axe]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".cache" / "audit" / "node_modules"
DEMO_PHONE, DEMO_PIN = "90000001", "482913"  # Mona Leder, manager on both demo sites (fieldapp/demo.py)
PAGES = ["/", "/s/1/checkin", "/s/1/reports/new", "/s/1/reports", "/alerts", "/s/1/alerts/new", "/s/1/alerts",
         "/s/1/on-site", "/s/1/attendance", "/s/1/checkin-settings", "/me", "/s/1/people", "/outbox"]
SIGNED_OUT = ["/sign-in", "/enroll"]


def start_app(port, instance):
    env = {**os.environ, "FIELDAPP_INSTANCE": instance, "FIELDAPP_LOCAL_DEV": "1"}
    flask = [sys.executable, "-m", "flask", "--app", "fieldapp"]
    for command in (["migrate"], ["demo-data"]):
        subprocess.run(flask + command, env=env, cwd=ROOT, check=True, capture_output=True)
    log = open(Path(instance, "server.log"), "w")
    process = subprocess.Popen(flask + ["run", "--port", str(port), "--host", "127.0.0.1"], env=env, cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):  # 20 s at most
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1)
            return process, url
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"the app did not start on {url}; see {instance}/server.log")


def sign_in(browser, url):
    context = browser.new_context(viewport={"width": 360, "height": 780}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, bypass_csp=True)  # bypass: axe-core is injected
    page = context.new_page()
    page.goto(url + "/sign-in")
    page.fill("input[name=phone]", DEMO_PHONE)
    page.fill("input[name=secret]", DEMO_PIN)
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    return context, page


def lighthouse(url, cookie, chromium):
    command = [str(TOOLS / ".bin" / "lighthouse"), url, "--quiet", "--output=json", "--output-path=stdout",
               "--form-factor=mobile", "--only-categories=performance,accessibility,best-practices",
               f"--chrome-path={chromium}", "--chrome-flags=--headless=new --no-sandbox --disable-gpu"]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    for _attempt in range(2):  # a busy machine sometimes loses the trace (NO_NAVSTART): once more
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        report = json.loads(done.stdout) if done.returncode == 0 else None
        if report is not None and not report.get("runtimeError"):
            break
    else:
        error = (report or {}).get("runtimeError", {}).get("message")
        return None, [error or (done.stderr.strip().splitlines() or ["lighthouse failed"])[-1]]
    scores = {key: round(100 * (category["score"] or 0)) for key, category in report["categories"].items()}
    scores["cls"] = report["audits"]["cumulative-layout-shift"]["numericValue"]
    def where(audit):
        items = (audit.get("details") or {}).get("items") or []
        nodes = [item.get("node", {}).get("selector") for item in items[:3] if isinstance(item, dict)]
        return "; ".join(n for n in nodes if n)

    failed = [f"{key}: {audit['title']} {where(audit)}" for key, audit in report["audits"].items()
              if audit.get("score") is not None and audit["score"] < 1 and audit.get("scoreDisplayMode") == "binary"
              and key in {ref["id"] for cat in ("accessibility", "best-practices")
                          for ref in report["categories"].get(cat, {}).get("auditRefs", [])}]
    return scores, failed


def axe(page, url):
    page.goto(url)
    page.add_script_tag(path=str(TOOLS / "axe-core" / "axe.min.js"))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({len(v['nodes'])}): {v['nodes'][0]['target']}" for v in result["violations"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("AUDIT_PORT", 5421)))
    parser.add_argument("--pages", nargs="*", default=PAGES)
    parser.add_argument("--no-lighthouse", action="store_true")
    parser.add_argument("--no-axe", action="store_true")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None or not TOOLS.exists():
        raise SystemExit("needs Debian's chromium and `make audit` (npm packages in .cache/audit)")
    instance = tempfile.mkdtemp(prefix="fieldapp-audit-")
    process, url = start_app(args.port, instance)
    totals = {"axe": 0, "pages": 0, "worst": {}}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium)
            context, page = sign_in(browser, url)
            cookie = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())
            print(f"{'page':28} {'perf':>5} {'a11y':>5} {'best':>5} {'CLS':>6}  axe")
            for path, signed_in in [(p_, True) for p_ in args.pages] + [(p_, False) for p_ in SIGNED_OUT]:
                scores, failed = (None, []) if args.no_lighthouse else lighthouse(
                    url + path, cookie if signed_in else "", chromium)
                if signed_in:
                    violations = [] if args.no_axe else axe(page, url + path)
                else:
                    other = browser.new_context(viewport={"width": 360, "height": 780}, bypass_csp=True)
                    violations = [] if args.no_axe else axe(other.new_page(), url + path)
                    other.close()
                totals["axe"] += len(violations)
                totals["pages"] += 1
                label = path + ("" if signed_in else " (signed out)")
                if scores:
                    for key in ("performance", "accessibility", "best-practices"):
                        totals["worst"][key] = min(totals["worst"].get(key, 100), scores[key])
                    totals["worst"]["cls"] = max(totals["worst"].get("cls", 0), scores["cls"])
                    print(f"{label:28} {scores['performance']:>5} {scores['accessibility']:>5} "
                          f"{scores['best-practices']:>5} {scores['cls']:>6.3f}  {len(violations)}")
                else:
                    print(f"{label:28} {'-':>5} {'-':>5} {'-':>5} {'-':>6}  {len(violations)}")
                for line in failed + violations:
                    print(f"    {line}")
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    print(f"\n{totals['pages']} pages; axe-core violations: {totals['axe']}; worst Lighthouse: "
          + ", ".join(f"{k} {v:.3f}" if k == "cls" else f"{k} {v}" for k, v in totals["worst"].items()))


if __name__ == "__main__":
    main()
