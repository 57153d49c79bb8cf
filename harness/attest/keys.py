"""Where the keys are: the public keys the config trusts, the signing key CI holds (an
environment variable or a file named in the config), or, when the config names no keys,
a local-only key the harness generates under its state folder."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harness.config import HarnessConfig
from harness.errors import AttestationError

# The keyid of the generated key, and where it lives under the state folder.
LOCAL_KEYID = "local"
LOCAL_KEY = Path("attestations") / "local-signing-key.pem"


@dataclass(frozen=True)
class Signer:
    keyid: str
    key: Ed25519PrivateKey


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:16]


def generate(path: Path) -> Ed25519PrivateKey:
    """A new Ed25519 key written to ``path`` (readable by its owner only) and ``path``.pub."""
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem(key))
    path.with_name(path.name + ".pub").write_bytes(public_pem(key.public_key()))
    return key


def _private(pem: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise AttestationError(f"{where} is not an unencrypted PEM private key ({exc})",
                               key="release.attestations") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AttestationError(f"{where} is not an Ed25519 key; make one with `harness "
                               "keygen` or `openssl genpkey -algorithm ed25519`",
                               key="release.attestations")
    return key


def _public(text: str, config: HarnessConfig, keyid: str) -> Ed25519PublicKey:
    where = f"{config.source}: key 'release.attestations.keys.{keyid}'"
    if "-----BEGIN" in text:
        pem = text.encode()
    else:
        path = config.resolve(Path(text))
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise AttestationError(f"{where}: cannot read {path} ({exc.strerror})",
                                   key=f"release.attestations.keys.{keyid}") from None
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise AttestationError(f"{where} is not a PEM public key ({exc})",
                               key=f"release.attestations.keys.{keyid}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AttestationError(f"{where} is not an Ed25519 public key",
                               key=f"release.attestations.keys.{keyid}")
    return key


def local_mode(config: HarnessConfig) -> bool:
    """Whether the config trusts no named key: the generated local-only key is used."""
    return not config.release.attestations.keys


def local_key_path(config: HarnessConfig) -> Path:
    return config.state_dir() / LOCAL_KEY


def trusted_keys(config: HarnessConfig) -> dict[str, Ed25519PublicKey]:
    """keyid -> public key: the config's keys, or the local-only key's (when it exists)."""
    spec = config.release.attestations
    if spec.keys:
        return {keyid: _public(text, config, keyid) for keyid, text in spec.keys.items()}
    path = local_key_path(config)
    if not path.is_file():
        return {}
    return {LOCAL_KEYID: _private(path.read_bytes(), str(path)).public_key()}


def signer(config: HarnessConfig) -> Signer:
    """The key this process signs with, or a refusal saying where it should come from.
    Its keyid is the name the config trusts its public key under."""
    spec = config.release.attestations
    if not spec.keys:
        path = local_key_path(config)
        key = _private(path.read_bytes(), str(path)) if path.is_file() else generate(path)
        return Signer(LOCAL_KEYID, key)
    if spec.signing_key_env is not None:
        text = os.environ.get(spec.signing_key_env)
        if not text:
            raise AttestationError(
                f"{config.source}: key 'release.attestations.signing_key_env': the environment "
                f"variable {spec.signing_key_env} holding the signing key is not set (in "
                "Jenkins, bind the credential in this stage)",
                key="release.attestations.signing_key_env")
        key = _private(text.encode(), f"the environment variable {spec.signing_key_env}")
    elif spec.signing_key_file is not None:
        path = config.resolve(spec.signing_key_file)
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise AttestationError(
                f"{config.source}: key 'release.attestations.signing_key_file': cannot read "
                f"{path} ({exc.strerror})", key="release.attestations.signing_key_file") from None
        key = _private(pem, str(path))
    else:
        raise AttestationError(
            f"{config.source}: no signing key: set 'release.attestations.signing_key_env' (a "
            "variable holding the PEM) or 'signing_key_file'", key="release.attestations")
    public = key.public_key()
    mine = fingerprint(public)
    for keyid, trusted in trusted_keys(config).items():
        if fingerprint(trusted) == mine:
            return Signer(keyid, key)
    raise AttestationError(
        f"the signing key (public key {mine}) is not among release.attestations.keys in "
        f"{config.source} ({', '.join(spec.keys)}): add its public key there, or sign with "
        "the key CI holds", key="release.attestations.keys")
