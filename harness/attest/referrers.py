"""Attestations attached to the model in its OCI registry, as OCI 1.1 referrers: each
envelope is a blob of an artifact manifest whose ``subject`` is the model's manifest.

They are listed through the referrers API (``/v2/<repo>/referrers/<digest>``) where the
registry answers it, and otherwise through the spec's fallback tag ``sha256-<hex>``: an
image index of the referrer manifests, kept up to date by the pusher. Debian's
``docker-registry`` (distribution 2.8) has no referrers API, so it takes the fallback.
"""

from __future__ import annotations

import json
from typing import Any

from harness.candidate.oci import (
    EMPTY_CONFIG,
    EMPTY_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    Session,
    sha256_bytes,
)
from harness.errors import RegistryError

ARTIFACT_TYPE = "application/vnd.in-toto+json"
ENVELOPE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
KIND = "dev.harness.attestation.kind"


def fallback_tag(digest: str) -> str:
    """The referrers tag schema: ``sha256:<hex>`` -> ``sha256-<hex>``."""
    return digest.replace(":", "-")


def _subject(session: Session) -> dict[str, Any]:
    digest = session.reference.require_digest()
    body = session.manifest_bytes(digest)
    return {"mediaType": MANIFEST_MEDIA_TYPE, "digest": digest, "size": len(body)}


def _index(session: Session, digest: str) -> tuple[dict[str, Any], bool]:
    """The referrers index of ``digest`` and whether it came from the referrers API."""
    doing = "listing the referrers of"
    response = session.get(f"referrers/{digest}", INDEX_MEDIA_TYPE, doing, missing_ok=True)
    api = response is not None and response.headers.get("Content-Type", "").startswith(
        INDEX_MEDIA_TYPE)
    if not api:
        response = session.get(f"manifests/{fallback_tag(digest)}", INDEX_MEDIA_TYPE, doing,
                               missing_ok=True)
    if response is None:
        return {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": []}, False
    try:
        index = json.loads(response.content)
        if not isinstance(index.get("manifests"), list):
            raise TypeError("no manifests")
    except (ValueError, TypeError, AttributeError):
        raise RegistryError(f"{session.reference}: its referrers index is not an OCI image "
                            "index") from None
    return index, api


def attach(session: Session, envelope: bytes, kind: str) -> str:
    """Push ``envelope`` as a referrer of the session's (pinned) reference; its manifest's
    digest. Without a referrers API, the fallback tag's index is updated too."""
    subject = _subject(session)
    layer = session.upload_bytes(envelope, ENVELOPE_MEDIA_TYPE)
    config = session.upload_bytes(EMPTY_CONFIG, EMPTY_MEDIA_TYPE)
    annotations = {KIND: kind}
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST_MEDIA_TYPE,
                "artifactType": ARTIFACT_TYPE, "config": config, "layers": [layer],
                "subject": subject, "annotations": annotations}
    body = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    digest = sha256_bytes(body)
    session.put_manifest(digest, body, MANIFEST_MEDIA_TYPE)
    index, api = _index(session, subject["digest"])
    if not api:
        listed = [m for m in index["manifests"] if m.get("digest") != digest]
        index["manifests"] = [*listed, {"mediaType": MANIFEST_MEDIA_TYPE, "digest": digest,
                                        "size": len(body), "artifactType": ARTIFACT_TYPE,
                                        "annotations": annotations}]
        session.put_manifest(fallback_tag(subject["digest"]),
                             json.dumps(index, sort_keys=True).encode(), INDEX_MEDIA_TYPE)
    return digest


def envelopes(session: Session) -> list[tuple[str, bytes]]:
    """Every attestation attached to the session's reference: (where, envelope bytes),
    each manifest and blob checked against its digest."""
    subject = session.reference.require_digest()
    index, _ = _index(session, subject)
    found = []
    for entry in index["manifests"]:
        if entry.get("artifactType") != ARTIFACT_TYPE:
            continue
        digest = str(entry.get("digest"))
        body = session.manifest_bytes(digest)
        if sha256_bytes(body) != digest:
            raise RegistryError(f"{session.reference}: referrer {digest[:19]}... does not "
                                "match its digest; refusing it")
        manifest = json.loads(body)
        if (manifest.get("subject") or {}).get("digest") != subject:
            continue  # a referrer of something else listed here is no attestation of this
        for layer in manifest.get("layers") or []:
            if layer.get("mediaType") != ENVELOPE_MEDIA_TYPE:
                continue
            response = session.get(f"blobs/{layer['digest']}", "*/*", "reading a referrer of")
            data = response.content if response is not None else b""
            if sha256_bytes(data) != layer["digest"]:
                raise RegistryError(f"{session.reference}: attestation blob "
                                    f"{layer['digest'][:19]}... does not match its digest")
            where = f"{session.reference.registry}/{session.reference.repository}@{digest}"
            found.append((where, data))
    return found
