"""A model artifact folder as an OCI artifact: push it to a registry, pull it back by digest.

ORAS conventions: one layer per file, named by its ``org.opencontainers.image.title``
annotation (its path in the folder); an OCI 1.1 image manifest with the harness's
``artifactType`` and the empty config. The registry protocol goes through the ``oras``
SDK (uploads, downloads, basic auth); what the SDK does not do, this module does:

- every wait is bounded (the SDK sets no timeout and retries for two minutes);
- a pull checks the manifest's bytes against the digest asked for, the tag (when one is
  given) against that digest, and every blob against its layer's digest and size, so a
  moved tag or a corrupted blob is refused before anything is written where it is used.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import oras.oci
import oras.provider
import requests

from harness.candidate.artifact import artifact_digest, artifact_files
from harness.clock import utc_now
from harness.errors import RegistryError

ARTIFACT_TYPE = "application/vnd.harness.model.v1"
LAYER_MEDIA_TYPE = "application/vnd.harness.model.file.v1"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_CONFIG = b"{}"
TITLE = "org.opencontainers.image.title"
CREATED = "org.opencontainers.image.created"
REVISION = "org.opencontainers.image.revision"
ARTIFACT_SHA256 = "dev.harness.artifact.sha256"
PROJECT = "dev.harness.project"

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_REFERENCE = re.compile(
    r"^(?P<registry>[A-Za-z0-9.-]+(?::\d+)?)/(?P<repository>[a-z0-9._/-]+?)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>[^@]+))?$"
)


@dataclass(frozen=True)
class Reference:
    """``registry/repository[:tag][@sha256:...]``, parsed."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> Reference:
        match = _REFERENCE.match(text.strip())
        if match is None:
            raise RegistryError(
                f"'{text}' is not an OCI reference; give it as "
                "registry/repository[:tag]@sha256:<digest>")
        reference = cls(**match.groupdict())
        if reference.digest is not None and not _DIGEST.match(reference.digest):
            raise RegistryError(f"'{text}': '{reference.digest}' is not a sha256 digest "
                                "(sha256: and 64 lowercase hex digits)")
        return reference

    def require_digest(self) -> str:
        """The digest, or a refusal: a deploy names exactly one set of bytes."""
        if self.digest is None:
            raise RegistryError(
                f"'{self}' is not pinned by digest: a tag can move, so deploy "
                f"{self.registry}/{self.repository}@sha256:<digest> as `harness publish` "
                "printed it")
        return self.digest

    @property
    def pinned(self) -> str:
        """``registry/repository@sha256:...``: the form every environment deploys."""
        return f"{self.registry}/{self.repository}@{self.require_digest()}"

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        digest = f"@{self.digest}" if self.digest else ""
        return f"{self.registry}/{self.repository}{tag}{digest}"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


@dataclass(frozen=True)
class ModelManifest:
    """A harness model manifest, read by digest and checked against it."""

    reference: Reference
    data: dict[str, Any]

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.data.get("annotations") or {})

    @property
    def artifact_sha256(self) -> str:
        return self.annotations.get(ARTIFACT_SHA256, "")

    @property
    def revision(self) -> str | None:
        return self.annotations.get(REVISION)

    @property
    def layers(self) -> list[dict[str, Any]]:
        return list(self.data.get("layers") or [])


def sha256_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class _Client(oras.provider.Registry):
    """The SDK's registry client with a timeout on every request and no silent retries
    (the SDK retries a refused connection for about two minutes)."""

    def __init__(self, reference: Reference, insecure: bool, credentials: Credentials | None,
                 timeout_s: float) -> None:
        super().__init__(hostname=reference.registry, insecure=insecure, auth_backend="basic")
        self.session.request = functools.partial(  # type: ignore[method-assign]
            self.session.request, timeout=timeout_s)
        self._anonymous = credentials is None
        if credentials is not None:
            self.auth.set_basic_auth(credentials.username, credentials.password)

    def do_request(self, url: str, method: str = "GET", data: Any = None,
                   headers: dict[str, str] | None = None, json: Any = None,
                   stream: bool = False) -> requests.Response:
        if self._anonymous:  # nothing to answer a 401 with: the caller reports it
            return self.session.request(method, url, data=data, json=json,
                                        headers=headers or {}, stream=stream,
                                        verify=self._tls_verify)
        # The SDK's request without its retry loop: it answers a 401 with the login.
        return _SDK_REQUEST(self, url, method, data, headers, json, stream)


_SDK_REQUEST = oras.provider.Registry.do_request.__wrapped__  # type: ignore[attr-defined]


class Session:
    """Talks to one registry for one reference; every failure becomes a ``RegistryError``."""

    def __init__(self, reference: Reference, *, insecure: bool = False,
                 credentials: Credentials | None = None, timeout_s: float = 30.0) -> None:
        self.reference = reference
        self._client = _Client(reference, insecure, credentials, timeout_s)
        self._container = self._client.get_container(
            f"{reference.registry}/{reference.repository}")
        self._base = f"{self._client.prefix}://{reference.registry}/v2/{reference.repository}"
        self._has_credentials = credentials is not None

    @contextlib.contextmanager
    def _talking(self, doing: str) -> Iterator[None]:
        where = self.reference.registry
        try:
            yield
        except requests.ConnectionError as exc:
            reason = "connection refused" if "refused" in str(exc).lower() else "cannot connect"
            raise RegistryError(
                f"registry {where} is not reachable ({reason}) while {doing} {self.reference}; "
                "start it or fix registry.host") from None
        except requests.Timeout:
            raise RegistryError(f"registry {where} did not answer in time while {doing} "
                                f"{self.reference}; raise registry.timeout_s or check it") from None
        except requests.RequestException as exc:
            raise RegistryError(f"registry {where} failed while {doing} {self.reference}: "
                                f"{exc}") from None

    def _check(self, response: requests.Response, doing: str) -> requests.Response:
        if response.status_code in (200, 201, 202):
            return response
        if response.status_code in (401, 403):
            who = ("the credentials in registry.username and its password were refused"
                   if self._has_credentials else
                   "it asks for credentials: set registry.username and password_env or "
                   "password_file")
            raise RegistryError(f"registry {self.reference.registry} answered "
                                f"{response.status_code} while {doing} {self.reference}: {who}")
        if response.status_code == 404:
            raise RegistryError(f"registry {self.reference.registry} answered 404 (not found) "
                                f"while {doing} {self.reference}; check the reference")
        raise RegistryError(f"registry {self.reference.registry} answered "
                            f"{response.status_code} while {doing} {self.reference}: "
                            f"{response.text[:200]}")

    # -- reading -------------------------------------------------------------------------

    def manifest_bytes(self, tag_or_digest: str) -> bytes:
        with self._talking("reading the manifest"):
            response = self._client.do_request(
                f"{self._base}/manifests/{tag_or_digest}", "GET",
                headers={"Accept": MANIFEST_MEDIA_TYPE})
            return self._check(response, "reading the manifest").content

    def manifest(self) -> ModelManifest:
        """The manifest the reference's digest names, checked byte for byte, and the tag
        (when the reference has one) checked to still name that digest."""
        digest = self.reference.require_digest()
        body = self.manifest_bytes(digest)
        if sha256_bytes(body) != digest:
            raise RegistryError(
                f"registry {self.reference.registry} returned a manifest for {digest} whose "
                f"bytes digest to {sha256_bytes(body)}; refusing it")
        if self.reference.tag is not None:
            tagged = sha256_bytes(self.manifest_bytes(self.reference.tag))
            if tagged != digest:
                raise RegistryError(
                    f"tag '{self.reference.tag}' of {self.reference.registry}/"
                    f"{self.reference.repository} moved: it now names {tagged}, not {digest}; "
                    "deploy by digest alone, or find out who pushed the tag again")
        try:
            data = json.loads(body)
        except ValueError:
            raise RegistryError(f"{self.reference}: the manifest is not JSON") from None
        if data.get("artifactType") != ARTIFACT_TYPE:
            raise RegistryError(
                f"{self.reference} is not a harness model (artifactType "
                f"{data.get('artifactType')!r}, expected {ARTIFACT_TYPE!r}); publish it with "
                "`harness publish`")
        return ModelManifest(self.reference, data)

    def pull(self, manifest: ModelManifest, destination: Path) -> None:
        """Download every layer into ``destination`` (a new folder), each checked against
        its digest and size; nothing is left behind when one does not match."""
        seen: set[str] = set()
        for layer in manifest.layers:
            name = _safe_name(manifest.reference, (layer.get("annotations") or {}).get(TITLE))
            if name in seen:
                raise RegistryError(f"{manifest.reference}: two layers are titled '{name}'")
            seen.add(name)
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with self._talking("downloading a blob of"):
                self._client.download_blob(self._container, layer["digest"], str(target))
            size, digest = target.stat().st_size, "sha256:" + _file_sha256(target)
            if digest != layer["digest"] or size != layer.get("size"):
                raise RegistryError(
                    f"blob {layer['digest'][:19]}... ('{name}') of {manifest.reference} does "
                    f"not match its digest: the registry served {size} bytes digesting to "
                    f"{digest[:19]}...; its storage is corrupted or was tampered with, so "
                    "nothing was deployed. Publish the candidate again")

    def get(self, path: str, accept: str, doing: str, missing_ok: bool = False
            ) -> requests.Response | None:
        """GET ``/v2/<repository>/<path>``; None for a 404 when ``missing_ok``."""
        with self._talking(doing):
            response = self._client.do_request(f"{self._base}/{path}", "GET",
                                               headers={"Accept": accept})
        if missing_ok and response.status_code == 404:
            return None
        return self._check(response, doing)

    # -- writing -------------------------------------------------------------------------

    def upload_bytes(self, data: bytes, media_type: str) -> dict[str, Any]:
        """Upload one blob; its descriptor."""
        descriptor = {"mediaType": media_type, "size": len(data), "digest": sha256_bytes(data)}
        with tempfile.NamedTemporaryFile() as handle, self._talking("uploading a blob to"):
            handle.write(data)
            handle.flush()
            self._check(self._client.upload_blob(handle.name, self._container, descriptor),
                        "uploading a blob to")
        return descriptor

    def put_manifest(self, name: str, body: bytes, media_type: str) -> None:
        """Store a manifest (or index) under a digest or a tag."""
        with self._talking("pushing a manifest to"):
            response = self._client.do_request(f"{self._base}/manifests/{name}", "PUT",
                                               data=body, headers={"Content-Type": media_type})
        self._check(response, "pushing a manifest to")

    def push(self, folder: Path, annotations: dict[str, str], tag: str | None) -> str:
        """Upload every file of ``folder`` and the manifest naming them; the manifest's
        digest. With ``tag``, the manifest is pushed under the tag as well."""
        layers = []
        with self._talking("pushing to"):
            for name, path in artifact_files(folder):
                layer = oras.oci.NewLayer(str(path), media_type=LAYER_MEDIA_TYPE)
                layer["annotations"] = {TITLE: name}
                self._check(self._client.upload_blob(str(path), self._container, layer),
                            "uploading a blob to")
                layers.append(layer)
            with tempfile.NamedTemporaryFile() as empty:
                empty.write(EMPTY_CONFIG)
                empty.flush()
                config = {"mediaType": EMPTY_MEDIA_TYPE, "size": len(EMPTY_CONFIG),
                          "digest": sha256_bytes(EMPTY_CONFIG)}
                self._check(self._client.upload_blob(empty.name, self._container, config),
                            "uploading the config to")
        manifest = {
            "schemaVersion": 2, "mediaType": MANIFEST_MEDIA_TYPE,
            "artifactType": ARTIFACT_TYPE, "config": config, "layers": layers,
            "annotations": annotations,
        }
        body = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        digest = sha256_bytes(body)
        for name in (digest, *([tag] if tag else [])):
            with self._talking("pushing the manifest of"):
                response = self._client.do_request(
                    f"{self._base}/manifests/{name}", "PUT", data=body,
                    headers={"Content-Type": MANIFEST_MEDIA_TYPE})
                self._check(response, "pushing the manifest of")
            stored = response.headers.get("Docker-Content-Digest")
            if stored is not None and stored != digest:
                raise RegistryError(f"registry {self.reference.registry} stored the manifest "
                                    f"as {stored}, not {digest}; refusing to name it")
        return digest


def _safe_name(reference: Reference, title: str | None) -> str:
    """A layer's title as a relative path inside the folder; anything else is refused."""
    path = PurePosixPath(title or "")
    if not title or path.is_absolute() or ".." in path.parts or "\\" in title:
        raise RegistryError(f"{reference}: layer title {title!r} is not a relative path inside "
                            "the artifact; refusing to write it")
    return path.as_posix()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def push_folder(session: Session, folder: Path, project: str, revision: str | None,
                tag: str | None = None) -> Reference:
    """Publish ``folder``; its pinned reference (with ``tag`` when one was pushed)."""
    if not folder.is_dir() or not artifact_files(folder):
        raise RegistryError(f"artifact {folder} is not a folder with files; build the model "
                            "first")
    annotations = {
        CREATED: utc_now(),
        ARTIFACT_SHA256: artifact_digest(folder),
        PROJECT: project,
        **({REVISION: revision} if revision else {}),
    }
    digest = session.push(folder, annotations, tag)
    ref = session.reference
    return Reference(ref.registry, ref.repository, tag, digest)


def pull_folder(session: Session, destination: Path,
                expected_artifact_sha256: str | None = None) -> ModelManifest:
    """Pull the reference's artifact into ``destination`` (which must not exist yet), every
    byte checked; on any mismatch nothing is left at ``destination``."""
    manifest = session.manifest()
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".pull-", dir=destination.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would stay on the folder it becomes
    try:
        session.pull(manifest, staging)
        folder = artifact_digest(staging)
        claimed = manifest.artifact_sha256
        for what, expected in (("the manifest", claimed),
                               ("the candidate", expected_artifact_sha256)):
            if expected is not None and folder != expected:
                raise RegistryError(
                    f"{session.reference}: the pulled folder digests to {folder[:12]}..., "
                    f"{what} says {expected[:12] if expected else '(nothing)'}...; refusing it")
        staging.rename(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest
