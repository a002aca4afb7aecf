"""Imports flow one way (issue 15): fieldapp's import graph has no cycle and no import hides in a function.

The graph is read from the source (ast), not from sys.modules, so it shows what importing a module does:
`from ..alerts import service` runs fieldapp/alerts/__init__.py and then fieldapp/alerts/service.py. A module's
own parent packages are left out (Python has started them before the module runs), unless the module takes a
name the package defines (`from . import csrf` in fieldapp/authz.py would wait on fieldapp/__init__.py).
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "fieldapp"

# The app factory is the composition root: it alone may import the blueprints (and so every feature) when an
# app is built, which keeps `import fieldapp` from importing every feature.
ALLOWED_IN_FUNCTIONS = {("fieldapp", "create_app")}


def module_name(path):
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules():
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def resolve(importer, is_package, node):
    """The absolute module a `from ... import` or `import` names (None: outside fieldapp)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level == 0:
        return [node.module]
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return [".".join(base + ([node.module] if node.module else []))]


def ancestors(name):
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def edges_of(name, path, known):
    """(module -> modules it imports when it is imported, function-level imports as (module, function))."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    targets, hidden = set(), []

    def add(target, takes_attribute):
        if target not in known:
            return
        for package in sorted(ancestors(target) | {target}):
            if package in ancestors(name) and not (package == target and takes_attribute):
                continue  # started before this module ran
            if package != name:
                targets.add(package)

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, function or child.name)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found = [m for m in resolve(name, is_package, child) if m and m.split(".")[0] == "fieldapp"]
                # Any import, not only fieldapp's: a library imported in a function hides a dependency too.
                if function and (name, function) not in ALLOWED_IN_FUNCTIONS:
                    hidden.append(f"{name}.{function}: line {child.lineno}")
                for module in found if not function else ():
                    if isinstance(child, ast.ImportFrom):
                        for alias in child.names:
                            sub = f"{module}.{alias.name}"
                            if sub in known:
                                add(sub, False)
                            else:
                                add(module, True)
                    else:
                        add(module, False)
                continue
            visit(child, function)

    visit(tree, None)
    return targets, hidden


def graph():
    known = modules()
    edges, hidden = {}, []
    for name, path in known.items():
        edges[name], found = edges_of(name, path, known)
        hidden += found
    return edges, hidden


def cycles(edges):
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def strong(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                strong(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges.get(node, ()):
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            strong(node)
    return groups


def test_fieldapp_imports_have_no_cycle():
    edges, _hidden = graph()
    assert "fieldapp.alerts.service" in edges and edges["fieldapp.alerts.service"], "the graph was not read"
    assert cycles(edges) == []


def test_no_import_hides_inside_a_function():
    _edges, hidden = graph()
    assert hidden == []


def test_the_checks_find_a_cycle_and_a_hidden_import(tmp_path):
    """The checks themselves can fail: a two-module cycle and an import in a function are found."""
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    package = tmp_path / "fieldapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "one.py").write_text("from . import two\n")
    (package / "two.py").write_text("def f():\n    from . import one\n")
    known = {"fieldapp": package / "__init__.py", "fieldapp.one": package / "one.py",
             "fieldapp.two": package / "two.py"}
    assert edges_of("fieldapp.one", known["fieldapp.one"], known)[0] == {"fieldapp.two"}
    assert edges_of("fieldapp.two", known["fieldapp.two"], known)[1] == ["fieldapp.two.f: line 2"]


def model_names():
    tree = ast.parse((ROOT / "models.py").read_text())
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


def model_uses(path, models):
    """Lines where a module imports fieldapp.models or names a model (Alert, service.Alert, ...)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("models"):
            found.append(f"{path.name}:{node.lineno} imports models")
        elif isinstance(node, ast.Name) and node.id in models:
            found.append(f"{path.name}:{node.lineno} {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in models:
            found.append(f"{path.name}:{node.lineno} .{node.attr}")
    return found


def test_views_never_touch_models():
    """A view calls its feature's service; queries and writes live there (issue 15)."""
    models = model_names()
    assert {"Alert", "CheckIn", "Organization"} <= models
    views = sorted(ROOT.glob("*/views.py"))
    assert len(views) >= 6
    assert [use for path in views for use in model_uses(path, models)] == []


def test_the_models_check_finds_a_view_that_queries(tmp_path):
    view = tmp_path / "views.py"
    view.write_text("from ..models import Site\n\ndef page():\n    return service.Alert.get_or_none()\n")
    assert model_uses(view, {"Alert", "Site"}) == ["views.py:1 imports models", "views.py:4 .Alert"]
