"""Which modules of the package a command runs, read from their source: the import closure.

Snakemake reruns a job whose parameters changed, so each rule passes the digest of the
modules its command runs: editing one reruns exactly the jobs that run it, and nothing
else. No list is kept by hand. ``python -m scratchnet <command>`` runs ``__main__`` and
``__init__``, then ``cli``: its module-level imports, ``main`` and the command's function
``cmd_<command>``, with every ``cli`` function they call. Every other module counts with
all its imports (at module level or inside functions), and so on, to the end.
"""

import ast
import hashlib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ENTRY = ("__init__", "__main__")
COMMAND_LINE = "cli"


class UnknownCommand(ValueError):
    """A command the command line does not have."""


def _tree(package: Path, module: str) -> ast.Module:
    path = package / f"{module}.py"
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _imported(nodes: list[ast.AST], package: Path) -> set[str]:
    """The package's modules imported anywhere inside ``nodes``."""
    name = package.name
    found = set()
    for node in (inner for outer in nodes for inner in ast.walk(outer)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    prefix = f"{name}."
    modules = {full.removeprefix(prefix).split(".")[0] for full in found if full.startswith(prefix)}
    return {module for module in modules if (package / f"{module}.py").is_file()}


def _command_line_imports(package: Path, command: str) -> set[str]:
    """What cli imports for ``command``: at module level, in main and in the command's
    function, and in every cli function those call."""
    tree = _tree(package, COMMAND_LINE)
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    handler = "cmd_" + command.replace("-", "_")
    if handler not in functions:
        known = sorted(name[4:].replace("_", "-") for name in functions if name.startswith("cmd_"))
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


def code_digest(command: str, package: Path = PACKAGE) -> str:
    """SHA-256 (16 hex digits) of the names and bytes of the modules ``command`` runs."""
    digest = hashlib.sha256()
    for module in sorted(command_modules(command, package)):
        digest.update(module.encode() + b"\0" + (package / f"{module}.py").read_bytes())
    return digest.hexdigest()[:16]
