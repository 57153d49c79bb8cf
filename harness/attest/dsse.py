"""DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1): the payload is
signed over its pre-authentication encoding (PAE), so the payload type is signed too.

Ed25519 through ``cryptography``, already a dependency: the envelope is about forty lines,
and the DSSE libraries (securesystemslib, sigstore) would add a dependency tree for them.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

IN_TOTO = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """``DSSEv1 SP LEN(type) SP type SP LEN(body) SP body``, lengths in ASCII decimal."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def sign(payload: bytes, key: Ed25519PrivateKey, keyid: str,
         payload_type: str = IN_TOTO) -> bytes:
    """A DSSE envelope of ``payload`` with one signature, as JSON bytes."""
    signature = key.sign(pae(payload_type, payload))
    envelope = {"payloadType": payload_type,
                "payload": base64.b64encode(payload).decode(),
                "signatures": [{"keyid": keyid, "sig": base64.b64encode(signature).decode()}]}
    return (json.dumps(envelope, indent=2) + "\n").encode()


class EnvelopeError(ValueError):
    """An envelope that cannot be read or whose signatures do not verify."""


@dataclass(frozen=True)
class Verified:
    """An envelope whose signature verified: the signer's keyid and the payload."""

    keyid: str
    payload_type: str
    payload: bytes


def keyids(envelope: bytes) -> list[str]:
    """The keyids an envelope claims, unverified (for saying who it claims to be from)."""
    try:
        return [str(s.get("keyid")) for s in json.loads(envelope).get("signatures", [])]
    except (ValueError, AttributeError, TypeError):
        return []


def verify(envelope: bytes, keys: dict[str, Ed25519PublicKey]) -> Verified:
    """The payload, when a signature by one of ``keys`` (by keyid) verifies over its PAE;
    ``EnvelopeError`` saying why not."""
    try:
        data = json.loads(envelope)
        payload_type = data["payloadType"]
        payload = base64.b64decode(data["payload"], validate=True)
        signatures = [(str(s["keyid"]), base64.b64decode(s["sig"], validate=True))
                      for s in data["signatures"]]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise EnvelopeError(f"it is not a DSSE envelope ({exc.__class__.__name__})") from None
    if not isinstance(payload_type, str) or not signatures:
        raise EnvelopeError("it is not a DSSE envelope (no payloadType or no signature)")
    unknown = []
    for keyid, signature in signatures:
        key = keys.get(keyid)
        if key is None:
            unknown.append(keyid)
            continue
        try:
            key.verify(signature, pae(payload_type, payload))
        except InvalidSignature:
            raise EnvelopeError(f"its signature by key '{keyid}' does not verify: the "
                                "envelope was changed after it was signed") from None
        return Verified(keyid, payload_type, payload)
    raise EnvelopeError(f"it is signed by key {', '.join(repr(k) for k in unknown)}, which is "
                        f"not among the trusted keys ({', '.join(sorted(keys)) or 'none'})")
