"""Output folders belong to the planner: a command replaces only the files it wrote.

Each folder lifecircle writes holds a small manifest, ``.lifecircle.json``
(``{"files": {name: command}}``), naming the files lifecircle wrote there and
which command wrote them (``coverage``, ``prepare``, ``report``,
``corrections`` ...). A command

- refuses a folder holding files the manifest does not name ("foreign"
  files) unless told ``--force``; with ``--force`` they are kept, never deleted
  or overwritten;
- replaces its own files and keeps every other command's (``report.xlsx``
  written by ``lifecircle report OUTDIR -o OUTDIR/report.xlsx`` survives a new
  ``lifecircle coverage -o OUTDIR``);
- never writes onto one of its own inputs (:func:`check_not_input`).

Folders written before the manifest existed are recognised by their marker
file (``params.json``, ``area.json``) and the names given as ``legacy``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from .errors import InputError
from .io import atomic_dir, atomic_file, check_writable, link_tree, locked_dir

__all__ = ["MANIFEST", "check_not_input", "check_outdir", "foreign_files", "kept_files", "owned_dir", "owners",
           "register_output"]

MANIFEST = ".lifecircle.json"


def _read_manifest(folder: Path) -> dict[str, str] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = data.get("files", {})
        return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, AttributeError):
        return {}  # unreadable manifest: nothing is recognised, so nothing is replaced without --force


def _write_manifest(path: Path, files: Mapping[str, str]) -> None:
    text = json.dumps({"version": 1, "files": dict(sorted(files.items()))}, ensure_ascii=False, indent=1)
    path.write_text(text + "\n", encoding="utf-8")


def owners(folder: str | Path, legacy: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{name: command}`` of the entries of ``folder`` that lifecircle wrote.

    From the manifest; a folder without one (older versions) recognises the
    ``legacy`` names that are present.
    """
    folder = Path(folder)
    found = _read_manifest(folder)
    if found is None:
        found = dict(legacy or {})
    return {n: c for n, c in found.items() if (folder / n).exists() or (folder / n).is_symlink()}


def foreign_files(folder: str | Path, legacy: Mapping[str, str] | None = None) -> list[str]:
    """Names in ``folder`` lifecircle did not write (hidden files such as ``.DS_Store`` are not counted)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    known = owners(folder, legacy)
    return sorted(p.name for p in folder.iterdir()
                  if p.name not in known and p.name != MANIFEST and not p.name.startswith("."))


def kept_files(folder: str | Path, command: str, legacy: Mapping[str, str] | None = None) -> list[str]:
    """Names in ``folder`` a new write by ``command`` keeps: everything it did not write itself (sorted)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    known = owners(folder, legacy)
    return sorted(p.name for p in folder.iterdir() if p.name != MANIFEST and known.get(p.name) != command)


def _names(names: Iterable[str]) -> str:
    names = list(names)
    return ", ".join(names[:3]) + (f" … (+{len(names) - 3})" if len(names) > 3 else "")


def check_outdir(outdir: str | Path, command: str, writes: Iterable[str], *, force: bool = False,
                 legacy: Mapping[str, str] | None = None) -> Path:
    """Check before the work that ``command`` may write ``outdir``.

    Raises
    ------
    InputError
        ``outdir`` is a file or cannot be written (:func:`geo.io.check_writable`);
        it holds files lifecircle did not write (unless
        ``force``); or one of them has a name ``command`` writes (even with
        ``force``: it would be overwritten).
    """
    out = check_writable(outdir, folder=True)
    if not out.exists():
        return out
    foreign = foreign_files(out, legacy)
    clash = [n for n in foreign if n in set(writes)]
    if clash:
        raise InputError(f"输出文件夹中已有不是本工具写的 {_names(clash)}，写入会覆盖它。请把它移走或换一个文件夹。",
                         f"the output folder holds {_names(clash)}, which lifecircle did not write and would "
                         "overwrite; move it or choose another folder.", out)
    if foreign and not force:
        raise InputError(f"输出文件夹中有不是本工具写的文件（{_names(foreign)}）。请换一个文件夹，或加 --force"
                         "（这些文件会保留）。",
                         f"the output folder holds files lifecircle did not write ({_names(foreign)}); choose another "
                         "folder or add --force (they are kept).", out)
    return out


@contextlib.contextmanager
def owned_dir(outdir: str | Path, command: str, writes: Iterable[str], *, force: bool = False,
              legacy: Mapping[str, str] | None = None) -> Iterator[Path]:
    """:func:`geo.io.atomic_dir` that replaces only ``command``'s files in ``outdir``.

    Yields an empty temporary folder; on success it becomes ``outdir``,
    together with every entry of the old ``outdir`` that ``command`` did not
    write (hard links, no copies), and a manifest naming the new files.
    """
    writes = list(writes)
    check_outdir(outdir, command, writes, force=force, legacy=legacy)

    def finalize(old: Path | None, tmp: Path) -> None:
        manifest = {p.name: command for p in tmp.iterdir()}
        if old is not None:  # ours are replaced (or dropped when this run did not write them again)
            known = owners(old, legacy)
            for name in kept_files(old, command, legacy):
                if name not in manifest:
                    link_tree(old / name, tmp / name)
                    if name in known:
                        manifest[name] = known[name]
        _write_manifest(tmp / MANIFEST, manifest)

    with atomic_dir(outdir, finalize=finalize) as tmp:
        yield tmp


def register_output(path: str | Path, command: str, legacy: Mapping[str, str] | None = None) -> None:
    """Record in its folder's manifest that ``command`` wrote ``path``.

    Only folders lifecircle manages are touched: with a manifest, or
    recognised by ``legacy`` (an older folder: the manifest starts from it).
    A report written to an arbitrary folder leaves no manifest there.
    """
    p = Path(path)
    folder = p.parent
    if not (folder / MANIFEST).is_file() and not legacy:
        return
    with locked_dir(folder):
        files = owners(folder, legacy)
        if files.get(p.name) == command:
            return
        files[p.name] = command
        with atomic_file(folder / MANIFEST) as tmp:
            _write_manifest(tmp, files)


def _same_or_inside(inner: Path, outer: Path) -> bool:
    try:
        inner.relative_to(outer)
        return True
    except ValueError:
        return False


def _real(p: str | Path) -> Path:
    return Path(os.path.realpath(p))


def check_not_input(output: str | Path, inputs: Iterable[str | Path | None], *,
                    replaces: Iterable[str] | None = None) -> None:
    """Raise InputError if writing ``output`` would write onto one of ``inputs``.

    ``output`` is a file, or a folder whose top-level entries ``replaces``
    (None: all of them) the command may replace. Conflicts: the same path
    (also through links), an input inside the output folder under a name it
    replaces, or the output inside an input folder that is itself written
    by lifecircle (a prepared area or a coverage folder).
    """
    out = _real(output)
    names = None if replaces is None else set(replaces)
    for given in inputs:
        if given is None or str(given) == "":
            continue
        inp = _real(given)
        same = inp == out or (out.exists() and inp.exists() and os.path.samefile(inp, out))
        inside = inp != out and _same_or_inside(inp, out) and (
            names is None or inp.relative_to(out).parts[0] in names)
        into_managed = (inp != out and inp.is_dir() and _same_or_inside(out, inp)
                        and any((inp / m).is_file() for m in (MANIFEST, "area.json", "params.json")))
        if same or inside or into_managed:
            raise InputError(f"输出会写到本命令自己的输入（{given}）上。请换一个输出路径。",
                             f"the output would be written onto one of this command's own inputs ({given}); "
                             "choose another output path.", output)
