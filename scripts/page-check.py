#!/usr/bin/env python3
"""Uploads a digit through the page of `dlpipe serve --listen` in headless Chromium (Selenium) and checks
that the label the page shows equals the API's answer for the same file. Run by scripts/page-check.sh."""
import json, os, re, subprocess, sys, tempfile, time, urllib.request
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

binary = os.path.abspath(sys.argv[1])
repo = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
digits = os.path.join(repo, "Tests/VisionTests/Fixtures/digits")
work = tempfile.mkdtemp(prefix="dlpipe-page-")
out = os.path.join(repo, "runs/page-check")
os.makedirs(out, exist_ok=True)

def run(args):
    subprocess.run([binary] + args, check=True, stdout=subprocess.DEVNULL)

open(f"{work}/train.conf", "w").write(
    f"stages:\n  - read.png: {{train: {digits}/train}}\n  - image.normalize:\n"
    "  - vision.train: {model: m.safetensors, layers: [{dense: 32}], epochs: 3}\n")
run(["run", f"{work}/train.conf", "-q"])
open(f"{work}/digits.conf", "w").write(
    "stages:\n  - read.png: {path: unused}\n  - image.normalize:\n  - vision.classify: {model: m.safetensors, top_k: 3}\n"
    "  - write.csv: {path: out.csv}\n")
log = open(f"{work}/serve.log", "w+")
server = subprocess.Popen([binary, "serve", f"{work}/digits.conf", "--listen", "127.0.0.1:0"], stderr=log, stdout=subprocess.DEVNULL)
try:
    port = None
    for _ in range(300):
        log.seek(0)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", log.read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.05)
    assert port, "the service did not say where it listens"
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if urllib.request.urlopen(base + "/readyz").status == 200:
                break
        except Exception:
            time.sleep(0.05)

    image = os.path.join(digits, "test/7", sorted(os.listdir(os.path.join(digits, "test/7")))[0])
    req = urllib.request.Request(base + "/v1/pipelines/digits", data=open(image, "rb").read(),
                                 headers={"Content-Type": "image/png"})
    api = json.load(urllib.request.urlopen(req))

    options = webdriver.ChromeOptions()
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=900,700"]:
        options.add_argument(a)
    service = webdriver.ChromeService(executable_path="/usr/bin/chromedriver")
    browser = webdriver.Chrome(options=options, service=service)
    try:
        browser.get(base + "/")
        WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#pipeline option"))
        browser.find_element(By.ID, "file").send_keys(image)
        WebDriverWait(browser, 20).until(lambda b: b.find_element(By.ID, "label").text not in ("", "–", "…"))
        shown = browser.find_element(By.ID, "label").text
        bars = len(browser.find_elements(By.CSS_SELECTOR, "#bars .bar"))
        browser.save_screenshot(os.path.join(out, "page.png"))
    finally:
        browser.quit()
    print(f"page-check: the page shows '{shown}' with {bars} bars; the API says '{api['label']}' "
          f"(screenshot: runs/page-check/page.png)")
    if shown != api["label"] or bars != len(api["top"]):
        sys.exit("page-check: the page and the API disagree")
finally:
    server.terminate()
    server.wait(timeout=30)
