"""The process runtime's image table: what a container runs when its spec sets no ``command``.

There are no images to pull: a container's process runs on this machine. A container that sets
``command`` runs it (with ``args``) whatever its image; one that does not takes the image's
entrypoint and default arguments from this table, keyed by the image's repository (tag, digest,
``docker.io/library/`` stripped; the last path component matches too, so ``registry.k8s.io/pause``
finds ``pause``). ``args`` without ``command`` replace the image's default arguments, as in kube.

Defaults (``--image-command NAME=CMD`` adds or replaces entries; ``CMD`` is split as a shell would,
``{port}`` is the container's first ``containerPort`` (80 when none), ``{python}`` this Python):

==================================  ============================================================
image                               runs
==================================  ============================================================
busybox, alpine, debian, ubuntu     ``sh`` (args: ``sh -c ...`` as written)
pause                               ``sleep infinity``
nginx, httpd                        ``{python} -m http.server {port}`` (serves the sandbox dir)
python                              ``{python}``
agnhost                             ``{python} -m http.server {port}``
==================================  ============================================================

An image with no entry, in a container without ``command``, cannot run: the container waits with
reason ``ErrImagePull`` and a message saying so (:class:`ErrImagePull`).
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass

__all__ = ["DEFAULT_IMAGES", "ErrImagePull", "ImageConfig", "ImageTable", "image_repository"]


class ErrImagePull(Exception):
    """The image cannot provide a command (kube's ``ErrImagePull``); the message says why."""


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """An image's entrypoint and default arguments (OCI ``Entrypoint``/``Cmd``)."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()


DEFAULT_IMAGES: dict[str, ImageConfig] = {
    "busybox": ImageConfig(cmd=("sh",)),
    "alpine": ImageConfig(cmd=("sh",)),
    "debian": ImageConfig(cmd=("sh",)),
    "ubuntu": ImageConfig(cmd=("sh",)),
    "pause": ImageConfig(entrypoint=("sleep", "infinity")),
    "nginx": ImageConfig(cmd=("{python}", "-m", "http.server", "{port}")),
    "httpd": ImageConfig(cmd=("{python}", "-m", "http.server", "{port}")),
    "python": ImageConfig(cmd=("{python}",)),
    "agnhost": ImageConfig(cmd=("{python}", "-m", "http.server", "{port}")),
}
"""The built-in image table (module docstring)."""


def image_repository(image: str) -> str:
    """``docker.io/library/nginx:1.27@sha256:..`` → ``nginx``; ``registry.k8s.io/pause:3.10`` →
    ``registry.k8s.io/pause``."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    for prefix in ("docker.io/library/", "index.docker.io/library/", "library/", "docker.io/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    return name


class ImageTable:
    """The image table: the defaults plus ``--image-command`` entries."""

    def __init__(self, extra: dict[str, str] | None = None) -> None:
        self.images: dict[str, ImageConfig] = dict(DEFAULT_IMAGES)
        for name, command in (extra or {}).items():
            self.images[image_repository(name)] = ImageConfig(entrypoint=tuple(shlex.split(command)))

    @staticmethod
    def parse_flag(value: str) -> tuple[str, str]:
        """One ``--image-command NAME=CMD`` value."""
        name, sep, command = value.partition("=")
        if not sep or not name.strip() or not command.strip():
            raise ValueError(f"expected NAME=CMD, got {value!r}")
        return name.strip(), command.strip()

    def lookup(self, image: str) -> ImageConfig | None:
        repo = image_repository(image)
        found = self.images.get(repo)
        if found is None:
            found = self.images.get(repo.rsplit("/", 1)[-1])
        return found

    def resolve(self, image: str, command: list[str], args: list[str], ports: list[int]) -> list[str]:
        """The argv of a container (kube's rules for ``command``/``args`` over the image's
        ``Entrypoint``/``Cmd``); :class:`ErrImagePull` when the image is needed and unknown."""
        if command:
            return [*command, *args]
        config = self.lookup(image)
        if config is None:
            raise ErrImagePull(
                f'image "{image}" is not in the kubelet\'s image table and the container sets no '
                f"command: there are no images to pull on this node; set command, or map the image "
                f"with --image-command {image_repository(image)}=CMD"
            )
        port = str(ports[0]) if ports else "80"
        argv = [*config.entrypoint, *(args if args else config.cmd)]
        if not argv:
            raise ErrImagePull(f'image "{image}" has neither an entrypoint nor a default command')
        return [a.replace("{python}", sys.executable).replace("{port}", port) for a in argv]
