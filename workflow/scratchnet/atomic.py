"""Write files so that a reader never sees a half-written one."""

import os
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def unwritable(folders: Iterable[str | os.PathLike]) -> Path | None:
    """The first of ``folders`` (each that exists, and the folders right inside it) this
    process cannot write to, or None."""
    for folder in map(Path, folders):
        inside = (p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else ()
        for path in (folder, *inside):
            if path.exists() and not os.access(path, os.W_OK):
                return path
    return None


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files (temp_path_for) that jobs since ended left in ``folder``
    (say, killed mid-write); return them."""
    removed = []
    for path in Path(folder).rglob(".*.tmp"):
        pid = path.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temp_path_for(target: Path) -> Path:
    """A sibling name that no rule declares as output and that is unique per process."""
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


def write_atomically(target: str | os.PathLike, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` and move the result to ``target`` only if it succeeded;
    on failure the temporary file is deleted."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(target)
    try:
        write(tmp)
        os.replace(tmp, target)
    except OSError as exc:  # name the file a failed write was for (disk full, read-only)
        raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from None
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomically(target: str | os.PathLike, text: str) -> None:
    write_atomically(target, lambda tmp: tmp.write_text(text))


_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class RowBlocks:
    """An array written block by block, never held whole: its shape, dtype and row blocks."""

    shape: tuple[int, ...]
    dtype: np.dtype
    blocks: Callable[[], Iterable[np.ndarray]]


def _write_member(member, array: "np.ndarray | RowBlocks") -> None:
    if not isinstance(array, RowBlocks):
        np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
        return
    header = {
        "descr": np.lib.format.dtype_to_descr(np.dtype(array.dtype)),
        "fortran_order": False,
        "shape": array.shape,
    }
    np.lib.format.write_array_header_1_0(member, header)
    for block in array.blocks():
        member.write(np.ascontiguousarray(block, dtype=array.dtype).data)


def _write_npz(path: Path, arrays: dict) -> None:
    # np.savez stamps each member with the current time; fixed stamps keep
    # identical arrays byte-identical on disk.
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_ZIP_TIME)
            with archive.open(info, "w", force_zip64=True) as member:
                _write_member(member, array)


def _write_npy(path: Path, array: "np.ndarray | RowBlocks") -> None:
    with open(path, "wb") as f:
        _write_member(f, array)


def write_npy_atomically(target: str | os.PathLike, array: "np.ndarray | RowBlocks") -> None:
    """A .npy file (loads, and memory-maps, with plain ``np.load``): an array or
    :class:`RowBlocks`."""
    write_atomically(target, lambda tmp: _write_npy(tmp, array))


def write_npz_atomically(target: str | os.PathLike, arrays: dict) -> None:
    """An uncompressed .npz (loads with plain ``np.load``) that depends only on its arrays.

    Values are arrays or :class:`RowBlocks`."""
    write_atomically(target, lambda tmp: _write_npz(tmp, arrays))
