"""Check the built documentation site as a reader sees it: links, anchors, images, console.

Two passes over a site built by ``mkdocs build --site-dir DIR``:

- links and anchors (Python only, every CI build): every ``href``/``src`` inside the site
  points at a file that exists, and every ``#fragment`` at an ``id`` on the target page;
- in a browser (before a release; Debian's ``chromium`` and ``chromium-driver`` packages and
  ``pip install selenium``): each page opened in headless Chromium from a local server, failing
  on a console error (a script error, a resource that does not load) or an image that does not
  load, with a full-page screenshot of each page saved to a folder.

    python docs/_site_check.py /tmp/site --links-only
    python docs/_site_check.py /tmp/site --screenshots /tmp/site-shots

Exits with status 1 and lists the problems when there are any.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import html.parser
import http.server
import pathlib
import posixpath
import re
import shutil
import sys
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator

#: attributes that point at another resource of the site
_LINK_ATTRS = {("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"),
               ("source", "src"), ("iframe", "src")}


class _Page(html.parser.HTMLParser):
    """The ids (anchors) of one HTML page and the links it holds."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (tag, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            if (tag, name) in _LINK_ATTRS:
                self.links.append((tag, value))


def _parse(path: pathlib.Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def site_path() -> str:
    """The path the site is served under (``/en/latest/`` for mkdocs.yml's site_url), which
    absolute links (the 404 page's) begin with."""
    config = pathlib.Path(__file__).resolve().parent.parent / "mkdocs.yml"
    match = re.search(r"^site_url:\s*(\S+)", config.read_text(), re.MULTILINE) if config.exists() else None
    path = urllib.parse.urlsplit(match.group(1)).path if match else "/"
    return path if path.endswith("/") else path + "/"


def _target(site: pathlib.Path, page: pathlib.Path, url: str,
            served_at: str = "/") -> tuple[pathlib.Path, str] | None:
    """The file a link of ``page`` points at and its fragment, or None for a link that leaves
    the site (another scheme or host) or carries no path to check."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("mailto:", "javascript:", "data:")):
        return None
    path = urllib.parse.unquote(parts.path)
    if path.startswith("/"):
        if not path.startswith(served_at):
            return site / "\0outside the site", ""
        base = posixpath.normpath(path[len(served_at):] or ".")
    elif path:
        here = page.parent.relative_to(site).as_posix()
        base = posixpath.normpath(posixpath.join(here, path))
    else:
        base = page.relative_to(site).as_posix()  # "#anchor": this page
    resolved = site / base
    if resolved.is_dir() or path.endswith("/"):
        resolved = resolved / "index.html"
    return resolved, urllib.parse.unquote(parts.fragment)


def check_links(site: pathlib.Path, served_at: str = "/") -> list[str]:
    """Every link, image and script of every page of ``site`` resolves: the file exists and
    the fragment names an id of the target page. ``served_at`` is the path the site is
    served under. Returns the problems found."""
    pages = sorted(site.rglob("*.html"))
    parsed = {p: _parse(p) for p in pages}
    problems = []
    for page, info in parsed.items():
        where = page.relative_to(site).as_posix()
        for tag, url in info.links:
            target = _target(site, page, url, served_at)
            if target is None:
                continue
            path, fragment = target
            if not path.exists():
                problems.append(f"{where}: <{tag}> {url}: no such file in the site")
                continue
            if fragment and path.suffix == ".html":
                ids = parsed[path].ids if path in parsed else _parse(path).ids
                if fragment not in ids:
                    problems.append(f"{where}: <{tag}> {url}: no anchor '{fragment}' on that page")
    return problems


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # the server logs nothing
        pass


@contextlib.contextmanager
def _serve(site: pathlib.Path) -> Iterator[str]:
    """The site over HTTP on a free local port (pages use scripts a file:// URL would block)."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


#: the flags headless Chromium needs on a build machine without a desktop
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--window-size=1280,900"]

_BROKEN_IMAGES = """return Array.from(document.images)
    .filter(img => !img.complete || img.naturalWidth === 0)
    .map(img => img.getAttribute('src'));"""


def check_in_browser(site: pathlib.Path, screenshots: pathlib.Path,
                     chromium: str = "/usr/bin/chromium",
                     chromedriver: str = "/usr/bin/chromedriver") -> list[str]:
    """Open every page of ``site`` in headless Chromium: the problems are console errors and
    images that did not load; a screenshot of each page goes to ``screenshots``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    screenshots.mkdir(parents=True, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="site-check-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    problems = []
    with _serve(site) as root:
        driver = webdriver.Chrome(service=Service(chromedriver), options=options)
        try:
            driver.set_page_load_timeout(60)
            for page in sorted(site.rglob("*.html")):
                rel = page.relative_to(site).as_posix()
                if rel == "404.html":
                    continue  # the not-found page, opened only by a server that lacks a page
                driver.get(root + rel)
                for entry in driver.get_log("browser"):
                    if entry.get("level") == "SEVERE":
                        problems.append(f"{rel}: console error: {entry.get('message')}")
                for src in driver.execute_script(_BROKEN_IMAGES):
                    problems.append(f"{rel}: image did not load: {src}")
                height = driver.execute_script("return document.documentElement.scrollHeight")
                driver.set_window_size(1280, min(max(int(height), 900), 16000))
                driver.save_screenshot(str(screenshots / (rel.replace("/", "__")[:-5] + ".png")))
                driver.set_window_size(1280, 900)
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
    return problems


def main(argv: list[str] | None = None) -> int:
    """Check a built site; print the problems and return 1 when there are any."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=pathlib.Path, help="the directory mkdocs built")
    parser.add_argument("--links-only", action="store_true",
                        help="links and anchors only, without a browser (what CI runs)")
    parser.add_argument("--screenshots", type=pathlib.Path, default=pathlib.Path("site-screenshots"),
                        help="where the browser pass saves a screenshot of each page")
    args = parser.parse_args(argv)
    if not (args.site / "index.html").exists():
        parser.error(f"{args.site} holds no index.html: build the site first (mkdocs build --site-dir ...)")
    problems = check_links(args.site, site_path())
    pages = len(list(args.site.rglob("*.html")))
    if not args.links_only:
        problems += check_in_browser(args.site, args.screenshots)
    for problem in problems:
        print(problem)
    what = ("links and anchors" if args.links_only
            else f"links, anchors, console and images (screenshots in {args.screenshots})")
    print(f"{pages} pages, {what}: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
