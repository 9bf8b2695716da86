"""The documentation cannot drift from the code.

- Every ```python block of each page in docs/ runs, in order, in one namespace per page; a
  block whose first line is ``# raises: SomeError`` must raise that error (the errors page
  shows each mistake next to its fix); ```pycon blocks are doctests (their printed output
  is checked). A block preceded by ``<!-- skip: reason -->`` is not run, and must say why.
- Every page is in mkdocs.yml's navigation, and every navigation entry exists.
- Every public name of the documented modules appears on its API reference page.
- Every error class's section (its ``anchor``) exists on the errors page.
- The committed figures are what docs/figures/make_figures.py draws today.
"""
from __future__ import annotations

import doctest
import pathlib
import re
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md"))

# A block may be indented (the content of a tab, === "functrans"): its fence, its skip marker
# and its closing fence share the indent, which is removed from the body before it runs.
_FENCE = re.compile(r"^(?P<indent>[ ]*)(?P<skip><!-- skip: (?P<reason>.*?) -->\n(?P=indent))?"
                    r"```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
                    re.MULTILINE | re.DOTALL)
_SKIP_ANY = re.compile(r"<!-- skip:(.*?)-->")


def code_blocks(text: str):
    """(language, body, skip_reason, line) of each fenced block, in order."""
    for m in _FENCE.finditer(text):
        indent = m.group("indent")
        body = "".join(line[len(indent):] if line.startswith(indent) else line.lstrip(" ")
                       for line in m.group("body").splitlines(keepends=True))
        yield m.group("lang"), body, m.group("reason"), text[:m.start("lang")].count("\n") + 1


def _page_id(path: pathlib.Path) -> str:
    return str(path.relative_to(DOCS))


def _run_python(body: str, ns: dict, where: str) -> None:
    first = body.lstrip().splitlines()[0] if body.strip() else ""
    expected = re.match(r"#\s*raises:\s*(\w+)", first)
    code = compile(body, where, "exec")
    if expected is None:
        exec(code, ns)
        return
    name = expected.group(1)
    try:
        exec(code, ns)
    except Exception as exc:
        names = {cls.__name__ for cls in type(exc).__mro__}
        assert name in names, f"{where}: expected {name}, got {type(exc).__name__}: {exc}"
        return
    raise AssertionError(f"{where}: expected the block to raise {name}, it did not")


def _run_pycon(body: str, ns: dict, where: str) -> None:
    test = doctest.DocTestParser().get_doctest(body, ns, where, where, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out: list[str] = []
    runner.run(test, out=out.append, clear_globs=False)
    ns.update(test.globs)  # DocTest works on a copy of the namespace: carry its names on
    assert runner.failures == 0, "".join(out)


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_every_code_block_of_the_page_runs(page, tmp_path, monkeypatch):
    text = page.read_text()
    ns: dict = {"__name__": f"docs_{page.stem}"}
    monkeypatch.chdir(tmp_path)  # pages that save checkpoints or figures write here
    monkeypatch.syspath_prepend(str(ROOT))
    np.random.seed(0)
    ran = 0
    for lang, body, reason, line in code_blocks(text):
        where = f"{_page_id(page)}:{line}"
        if reason is not None:
            assert reason.strip(), f"{where}: a skipped block must say why"
            continue
        if lang == "python":
            _run_python(body, ns, where)
            ran += 1
        elif lang == "pycon":
            _run_pycon(body, ns, where)
            ran += 1
    # a skip marker that does not sit right above a block would silently do nothing
    markers = len(_SKIP_ANY.findall(text))
    skipped = sum(1 for _, _, reason, _ in code_blocks(text) if reason is not None)
    assert markers == skipped, f"{_page_id(page)}: a <!-- skip: ... --> marker is not directly above a code block"


def _nav_files(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [f for item in node for f in _nav_files(item)]
    if isinstance(node, dict):
        return [f for value in node.values() for f in _nav_files(value)]
    return []


def _mkdocs_nav() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text()
    nav = text.split("\nnav:\n", 1)[1]
    return re.findall(r":\s*([\w/.-]+\.md)\s*$", nav, re.MULTILINE)


def test_every_page_is_in_the_navigation_and_every_entry_exists():
    nav = _mkdocs_nav()
    pages = {_page_id(p) for p in PAGES}
    assert sorted(set(nav) - pages) == [], "mkdocs.yml names pages that do not exist"
    assert sorted(pages - set(nav)) == [], "pages missing from mkdocs.yml's nav"


sys.path.insert(0, str(DOCS))
try:
    import _api_coverage  # the same check runs as an MkDocs hook (mkdocs.yml: hooks)
finally:
    sys.path.pop(0)


@pytest.mark.parametrize("module_name", sorted(_api_coverage.API_PAGES))
def test_every_public_name_is_in_the_api_reference(module_name):
    page = _api_coverage.API_PAGES[module_name]
    assert f"::: {module_name}" in (DOCS / "api" / page).read_text(), \
        f"api/{page} does not render {module_name}"
    gaps = _api_coverage.missing(module_name)
    assert not gaps, f"docs/api/{page} lacks {module_name}.{gaps}"


def _slug(heading: str) -> str:
    """The anchor MkDocs (Python-Markdown's toc) gives a heading: lower case, punctuation
    dropped, spaces to hyphens; or an explicit ``{ #id }``."""
    explicit = re.search(r"\{\s*#([\w-]+)\s*\}\s*$", heading)
    if explicit:
        return explicit.group(1)
    text = re.sub(r"[^\w\s-]", "", heading.strip().lower())
    return re.sub(r"[-\s]+", "-", text).strip("-")


def test_every_error_class_links_an_existing_section_of_the_errors_page():
    from functrans import errors

    text = (DOCS / "errors.md").read_text()
    anchors = {_slug(h) for h in re.findall(r"^#{2,3} (.+)$", text, re.MULTILINE)}
    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, errors.FunctransError) and c is not errors.FunctransError]
    assert classes
    for cls in classes:
        assert cls.anchor in anchors, f"{cls.__name__}: no '{cls.anchor}' section in docs/errors.md"
        assert cls.docs_url() == f"{errors.DOCS_BASE_URL}errors/#{cls.anchor}"
        assert cls.docs_url() in str(cls("message")), "the message must carry the link"
        assert f"`{cls.__name__}`" in text, f"docs/errors.md never names {cls.__name__}"
        assert f"](#{cls.anchor})" in text, f"the table atop docs/errors.md lacks {cls.__name__}"


def test_error_links_point_at_the_configured_site():
    from functrans import errors

    site_url = re.search(r"^site_url:\s*(\S+)", (ROOT / "mkdocs.yml").read_text(), re.MULTILINE)
    assert site_url and site_url.group(1) == errors.DOCS_BASE_URL


def test_the_committed_figures_are_what_the_script_draws():
    sys.path.insert(0, str(DOCS / "figures"))
    try:
        import make_figures
    finally:
        sys.path.pop(0)
    figures = make_figures.figures()
    assert figures
    for name, svg in figures.items():
        committed = (DOCS / "figures" / name).read_text()
        assert committed == svg, f"docs/figures/{name} is stale: run python docs/figures/make_figures.py"


def _bare_signature(obj) -> str | None:
    """Why ``obj`` would render without a real signature, or None if it has one (a function
    made by a factory, or one whose parameters are only ``*args, **kwargs``)."""
    import inspect

    try:
        params = list(inspect.signature(obj).parameters.values())
    except (TypeError, ValueError) as exc:
        return f"no signature ({exc})"
    kinds = [p.kind for p in params]
    if kinds == [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD]:
        return "only (*args, **kwargs)"
    return None


# Public callables that take anything on purpose: the stub raises and names what to use instead.
_NO_SIGNATURE_NEEDED = {"functrans.lax.conv_general_dilated"}


@pytest.mark.parametrize("module_name", sorted(_api_coverage.API_PAGES))
def test_every_public_function_of_the_reference_has_a_signature(module_name):
    import importlib
    import inspect

    module = importlib.import_module(module_name)
    bare = {}
    for name in _api_coverage.public_names(module):
        obj = getattr(module, name)
        if f"{module_name}.{name}" in _NO_SIGNATURE_NEEDED:
            continue
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue  # constants and other objects: documented in the page's prose
        if inspect.isclass(obj) and (issubclass(obj, BaseException) or getattr(obj, "_is_protocol", False)):
            continue  # exceptions take a message; a Protocol is never called, its __call__ renders
        why = _bare_signature(obj)
        if why is None and not inspect.isclass(obj) and not (obj.__doc__ or "").strip():
            why = "no docstring"
        if why is not None:
            bare[name] = why
    assert not bare, f"{module_name}: these would render without a signature or docstring: {bare}"


def test_the_traced_array_table_lists_the_methods():
    table = _api_coverage.array_methods_table()
    for member in ("`x.sum()`", "`x.T`", "`x.at`", "`x.reshape()`"):
        assert member in table
    assert _api_coverage.ARRAY_METHODS_MARKER in (DOCS / "api" / "arrays.md").read_text()


def test_no_sphinx_roles_in_docstrings_or_pages():
    """MkDocs shows a Sphinx role (``:func:`name```) as literal text: cross-references are
    Markdown, ``[`name`][functrans.module.name]``, which mkdocstrings turns into links."""
    role = re.compile(r":(func|class|meth|mod|attr|data|exc|obj):`")
    found = [f"{path.relative_to(ROOT)}:{text[:m.start()].count(chr(10)) + 1}"
             for path in [*sorted((ROOT / "functrans").rglob("*.py")), *PAGES]
             for text in [path.read_text()] for m in role.finditer(text)]
    assert not found, f"Sphinx roles left: {found}"


sys.path.insert(0, str(DOCS))
try:
    import _mappings  # the JAX and optax tables (mkdocs.yml: hooks)
    import _site_check  # the built site's links and anchors (.ci/run)
finally:
    sys.path.pop(0)


@pytest.mark.parametrize("library", sorted(_mappings.TARGETS))
def test_mapping_tables_are_computed_from_the_code(library):
    rows = _mappings.mapping(library)
    assert rows and all(r.name for r in rows)
    found = {r.name: r.target for r in rows}
    known = {"optax": ("adam", "optim.adam"), "jax.numpy": ("sin", "fnp.sin"),
             "jax.random": ("split", "ft.random.split"), "jax.lax": ("scan", "ft.lax.scan"),
             "jax.scipy": ("special.logsumexp", "ft.scipy.special.logsumexp"),
             "jax.ops": ("segment_max", "ft.ops.segment_max"),
             "jax.nn": ("hard_tanh", "nn.hard_tanh")}[library]
    assert found[known[0]] == known[1]
    table = _mappings.table(library)
    have = sum(r.target is not None for r in rows)
    assert f"**{have} of {len(rows)}**" in table
    body = [line for line in table.splitlines()
            if line.startswith("| `") and not line.endswith("| functrans | note |")]
    assert len(body) == len(rows)  # one row per name
    assert f"<!-- mapping: {library} -->" in (DOCS / "mapping.md").read_text()


def test_mapping_table_marks_a_missing_name_and_renames():
    optax = {r.name: r for r in _mappings.mapping("optax")}
    assert optax["adan"].target is None  # no adan in functrans.optim
    assert optax["cosine_decay_schedule"].target is not None
    assert optax["huber_loss"].target == "optim.losses.huber_loss"
    assert optax["identity"].target == "optim.scale" and optax["identity"].note
    assert "| `adan` | missing |" in _mappings.table("optax")


def test_jax_nn_table_states_what_differs_under_the_same_name():
    rows = {r.name: r for r in _mappings.mapping("jax.nn")}
    assert rows["gelu"].target == "nn.gelu" and "approximate=True" in rows["gelu"].note
    assert rows["leaky_relu"].note and not rows["hard_tanh"].note
    assert rows["scaled_matmul"].target is None


def test_every_mapping_marker_names_a_list():
    markers = _mappings.MARKER.findall((DOCS / "mapping.md").read_text())
    assert sorted(markers) == sorted(_mappings.TARGETS)
    for library in markers:
        assert (DOCS / "_mappings" / f"{library}.txt").exists()


def test_site_check_finds_broken_links_anchors_and_images(tmp_path):
    site = tmp_path / "site"
    (site / "guide").mkdir(parents=True)
    (site / "index.html").write_text(
        '<h1 id="top">x</h1><a href="guide/">ok</a> <a href="guide/#intro">ok</a> '
        '<a href="#top">ok</a> <a href="https://example.org/x">outside</a> '
        '<a href="guide/#nowhere">bad anchor</a> <a href="missing/">bad page</a> '
        '<img src="figures/none.svg">')
    (site / "guide" / "index.html").write_text('<h2 id="intro">y</h2><a href="../#top">ok</a>')
    problems = _site_check.check_links(site)
    assert len(problems) == 3, problems
    assert any("no anchor 'nowhere'" in p for p in problems)
    assert any("missing/" in p for p in problems)
    assert any("figures/none.svg" in p for p in problems)
    assert _site_check.main([str(site), "--links-only"]) == 1


@pytest.mark.parametrize("name", ["sharp-bits.md", "cookbook.md", "transforms.md", "performance.md"])
def test_the_pages_about_numerics_run_without_warnings(name, tmp_path, monkeypatch):
    """A page that teaches overflow and NaN handling must not itself print NumPy's warnings."""
    import warnings

    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT))
    ns: dict = {"__name__": f"docs_{name}"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for lang, body, reason, line in code_blocks((DOCS / name).read_text()):
            if lang == "python" and reason is None:
                _run_python(body, ns, f"{name}:{line}")


def test_the_reference_shows_a_function_named_as_its_submodule():
    """``functrans.lax.scan`` is a function and a submodule's name: the Griffe extension of
    docs/_griffe_shadowed.py makes the reference show what the package exports under each
    such name (without it, mkdocstrings would render nothing for lax.scan, lax.cond,
    integrate.odeint, nn.dropout, ...)."""
    import importlib

    griffe = pytest.importorskip("griffe")  # the docs extra
    sys.path.insert(0, str(DOCS))
    try:
        import _griffe_shadowed
    finally:
        sys.path.pop(0)
    package = griffe.load("functrans", search_paths=[str(ROOT)], store_source=False,
                          extensions=griffe.load_extensions(_griffe_shadowed.RuntimeNames))
    wrong = []
    for module_name in _api_coverage.API_PAGES:
        module = importlib.import_module(module_name)
        documented = package[module_name.removeprefix("functrans.")] if "." in module_name else package
        for name in _api_coverage.public_names(module):
            member = documented.members.get(name)  # public_names leaves modules out
            if member is not None and not member.is_alias and member.is_module:
                wrong.append(f"{module_name}.{name}")
    assert wrong == []
    assert package["lax.scan"].final_target.is_function
    assert package["config.Config"].is_class  # a path through the name still reaches the module


def test_a_listed_member_without_an_entry_on_the_built_page_is_reported():
    """The MkDocs hook of docs/_api_coverage.py fails the build when an API page lists a
    member that the built page shows no entry for (mkdocstrings skips such a name silently)."""
    page = ("# x\n\n::: functrans.lax\n    options:\n      members:\n        - scan\n"
            "        - cond\n\nProse.\n\n::: functrans.nn\n")
    assert _api_coverage.listed_members(page) == ["functrans.lax.scan", "functrans.lax.cond"]
    html = '<h3 id="functrans.lax.scan">scan</h3>'
    assert _api_coverage.unrendered(page, html) == ["functrans.lax.cond"]
    for name in ("lax.md", "nn.md", "numpy.md"):
        assert _api_coverage.listed_members((DOCS / "api" / name).read_text())
