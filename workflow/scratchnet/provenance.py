"""Which modules of the package a command runs, read from their source: the import closure.

Snakemake reruns a job whose parameters changed, so each rule passes the digest of the
modules its command runs: editing one reruns exactly the jobs that run it, and nothing
else. No list is kept by hand. ``python -m scratchnet <command>`` runs ``__main__`` and
``__init__``, then ``cli``: its module-level imports, ``main`` and the command's function
``cmd_<command>``, with every ``cli`` function they call. Every other module counts with
all its imports (at module level or inside functions), and so on, to the end.
"""

import ast
import functools
import hashlib
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ENTRY = ("__init__", "__main__")
COMMAND_LINE = "cli"


class UnknownCommand(ValueError):
    """A command the command line does not have."""


def _tree(package: Path, module: str) -> ast.Module:
    path = package / f"{module}.py"
    return _parsed(path.read_text(encoding="utf-8"), str(path))


@functools.cache
def _parsed(source: str, filename: str) -> ast.Module:
    """Parsed once per text: a rule's digest and the next one share the modules' trees."""
    return ast.parse(source, filename)


def _imported(nodes: list[ast.AST], package: Path) -> set[str]:
    """The package's modules imported anywhere inside ``nodes``."""
    found = set().union(*(_names_imported(node) for node in nodes))
    prefix = f"{package.name}."
    modules = {full.removeprefix(prefix).split(".")[0] for full in found if full.startswith(prefix)}
    return {module for module in modules if (package / f"{module}.py").is_file()}


@functools.cache
def _names_imported(node: ast.AST) -> frozenset[str]:
    """Every absolute import inside ``node``, by its full dotted name (a node of a cached
    tree is the same object for the same text)."""
    found = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Import):
            found |= {alias.name for alias in inner.names}
        elif isinstance(inner, ast.ImportFrom) and inner.level == 0 and inner.module:
            found.add(inner.module)
            found |= {f"{inner.module}.{alias.name}" for alias in inner.names}
    return frozenset(found)


def commands(package: Path = PACKAGE) -> list[str]:
    """Every command of the command line (its ``cmd_<command>`` functions)."""
    tree = _tree(package, COMMAND_LINE)
    handlers = (node.name for node in tree.body if isinstance(node, ast.FunctionDef))
    return sorted(name[4:].replace("_", "-") for name in handlers if name.startswith("cmd_"))


def _command_line_imports(package: Path, command: str) -> set[str]:
    """What cli imports for ``command``: at module level, in main and in the command's
    function, and in every cli function those call."""
    tree = _tree(package, COMMAND_LINE)
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    handler = "cmd_" + command.replace("-", "_")
    if handler not in functions:
        known = commands(package)
        raise UnknownCommand(f"no command {command!r} in {COMMAND_LINE}.py (known: {known})")
    reached, waiting = set(), ["main", handler]
    while waiting:
        name = waiting.pop()
        if name in reached:
            continue
        reached.add(name)
        for node in ast.walk(functions[name]):
            called = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            if called and node.func.id in functions:
                waiting.append(node.func.id)
    module_level = [node for node in tree.body if not isinstance(node, ast.FunctionDef)]
    return _imported(module_level + [functions[name] for name in reached], package)


def command_modules(command: str, package: Path = PACKAGE) -> set[str]:
    """Every module of the package that ``python -m scratchnet <command>`` runs."""
    modules, waiting = set(), [*ENTRY, COMMAND_LINE]
    while waiting:
        module = waiting.pop()
        if module in modules:
            continue
        modules.add(module)
        if module == COMMAND_LINE:
            waiting.extend(_command_line_imports(package, command))
        else:
            waiting.extend(_imported([_tree(package, module)], package))
    return modules


def libraries(served: list[str], package: Path = PACKAGE) -> list[str]:
    """The modules outside the package and the standard library that the ``served``
    commands' modules import (what the warm worker loads before it forks)."""
    modules = set().union(*(command_modules(command, package) for command in served))
    found = set()
    for module in modules:
        for node in ast.walk(_tree(package, module)):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
    outside = {name for name in found if name.split(".")[0] != package.name}
    return sorted(name for name in outside if name.split(".")[0] not in sys.stdlib_module_names)


def code_digest(command: str, package: Path = PACKAGE) -> str:
    """Each module ``command`` runs and the SHA-256 of its bytes (8 hex digits), as
    "atomic=1a2b3c4d,cli=...": a rule's parameter, so that editing a module reruns the
    jobs that run it, and the job's own check (changed_since) that it runs that code."""
    return ",".join(
        f"{module}={hashlib.sha256((package / f'{module}.py').read_bytes()).hexdigest()[:8]}"
        for module in sorted(command_modules(command, package))
    )


def changed_since(command: str, planned: str, package: Path = PACKAGE) -> list[str]:
    """The modules of ``command`` that differ from its ``planned`` code_digest (edited,
    added or no longer imported)."""
    now, then = (
        dict(part.split("=") for part in digest.split(","))
        for digest in (code_digest(command, package), planned)
    )
    return sorted(
        module for module in now.keys() | then.keys() if now.get(module) != then.get(module)
    )
