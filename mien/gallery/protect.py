"""Template protection: AES-GCM for what is stored, a keyed orthogonal rotation for what is indexed.

Biometric templates are special-category data (GDPR art. 9, BIPA), so a gallery made with a
key keeps them under two protections, each from its own subkey (HKDF-SHA256 of the key and
the gallery's random salt, so one key serves many galleries without linking them):

* **sealed originals** — each template's float32 vector (and face crop, when kept) is
  encrypted with AES-256-GCM, a fresh 96-bit nonce each, the gallery and identity name as
  associated data (a ciphertext moved to another identity fails to open);
* **cancelable index vectors** — an ANN index must compare vectors, so it holds ``R @ v``
  where ``R`` is a secret random orthogonal matrix drawn from the key (in the spirit of
  ISO/IEC 24745 renewable templates). Rotations keep Euclidean and cosine distances
  exactly, so search accuracy is unchanged, and a new key gives an unrelated ``R``:
  re-keying revokes every stored index vector. A rotation is not encryption: anyone who
  knows ``D`` (128) originals and their rotated forms can solve for ``R``; the index files
  therefore stay inside the store, and the originals only ever exist sealed.

Without a key nothing is encrypted: templates lie in the clear in the store and its index,
and mien says so (``ClearTemplatesWarning``, ``mien gallery info``).

The key is 32 random bytes, given as 64 hex digits or base64 in ``MIEN_GALLERY_KEY``, or in a
file named by ``MIEN_GALLERY_KEY_FILE`` (``mien gallery keygen`` writes one, mode 0600).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import secrets
import warnings
from pathlib import Path

import numpy as np

from ..errors import TemplateKeyError

KEY_ENV = "MIEN_GALLERY_KEY"
KEY_FILE_ENV = "MIEN_GALLERY_KEY_FILE"
KEY_BYTES = 32
_NONCE = 12


class ClearTemplatesWarning(UserWarning):
    """A gallery without a key: its templates are stored and indexed unencrypted."""


def generate_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def encode_key(key: bytes) -> str:
    return key.hex()


def decode_key(text: str, source: str) -> bytes:
    text = text.strip()
    for decode in (bytes.fromhex, lambda s: base64.b64decode(s, validate=True)):
        try:
            key = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(key) == KEY_BYTES:
            return key
    raise TemplateKeyError(f"the gallery key in {source} is not 32 bytes as 64 hex digits or base64; "
                           "make one with `mien gallery keygen -o FILE`")


def load_key(key: bytes | str | os.PathLike | None = None) -> bytes | None:
    """The key given (bytes, key text or a key file's path), else from the environment, else None."""
    if isinstance(key, bytes):
        if len(key) != KEY_BYTES:
            raise TemplateKeyError(f"a gallery key is {KEY_BYTES} bytes, got {len(key)}")
        return key
    if key is not None:
        path = Path(key)
        if path.exists():  # a file, or a pipe such as <(...)
            return _read_key_file(path)
        return decode_key(str(key), "the key given")
    if os.environ.get(KEY_ENV):
        return decode_key(os.environ[KEY_ENV], KEY_ENV)
    if os.environ.get(KEY_FILE_ENV):
        return _read_key_file(Path(os.environ[KEY_FILE_ENV]))
    return None


def _read_key_file(path: Path) -> bytes:
    try:
        return decode_key(path.read_text(), str(path))
    except OSError as exc:
        raise TemplateKeyError(f"cannot read the gallery key file {path}: {exc}") from exc


def write_key_file(path: str | os.PathLike, key: bytes | None = None) -> Path:
    """A new key file readable by its owner only; refuses to overwrite one."""
    target = Path(path)
    key = key or generate_key()
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise TemplateKeyError(f"{target} exists; a key file is never overwritten (its templates would be lost)") from exc
    with os.fdopen(fd, "w") as fh:
        fh.write(encode_key(key) + "\n")
    return target


@functools.lru_cache(maxsize=256)  # the journal key and pseudonyms are derived on every call
def hkdf(key: bytes, salt: bytes, purpose: str, length: int = 32) -> bytes:
    """HKDF-SHA256 (RFC 5869) of ``key`` for one purpose."""
    prk = hmac.new(salt or b"\0" * 32, key, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + b"mien-gallery/" + purpose.encode() + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


class TemplateProtector:
    """Seals and opens one gallery's templates and rotates its index vectors; a no-op without a key.

    Each gallery also has a random 32-byte secret, stored sealed under the key (plain without
    one). The journal's HMAC key and the identities' pseudonyms derive from it rather than
    from the key, so a re-key (``Gallery.rekey``) re-seals the secret and the journal's chain
    and pseudonyms carry on unbroken. Opening the sealed secret is also the key check.
    """

    def __init__(self, key: bytes | None, salt: bytes, dim: int, gallery: str, sealed_secret: bytes | None = None,
                 protected: bool | None = None) -> None:
        self.key = key
        self.salt = salt
        self.dim = int(dim)
        self.gallery = gallery
        self._rotation: np.ndarray | None = None
        if key is not None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._aead = AESGCM(hkdf(key, salt, "seal"))
        if sealed_secret is None:
            self.secret = secrets.token_bytes(KEY_BYTES)
        else:
            self.secret = self._open_secret(sealed_secret, bool(protected))

    @property
    def protected(self) -> bool:
        return self.key is not None

    def sealed_secret(self) -> bytes:
        """The gallery secret as the store keeps it."""
        return self.seal(self.secret, "gallery-secret")

    def _open_secret(self, sealed: bytes, protected: bool) -> bytes:
        if protected and not self.protected:
            raise TemplateKeyError(f"gallery {self.gallery!r} is encrypted: give its key "
                                   f"({KEY_ENV}, {KEY_FILE_ENV} or --key-file)")
        if not protected and self.protected:
            warnings.warn(f"gallery {self.gallery!r} was made without a key; its templates lie in the clear and "
                          "the key given is not used", ClearTemplatesWarning, stacklevel=4)
            self.key = None
        if not self.protected:
            return bytes(sealed)
        try:
            return self.open(sealed, "gallery-secret")
        except TemplateKeyError:
            raise TemplateKeyError(f"wrong key for gallery {self.gallery!r}") from None

    # -- sealing ---------------------------------------------------------------------------------
    def seal(self, data: bytes, identity: str) -> bytes:
        if not self.protected:
            return bytes(data)
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._aead.encrypt(nonce, bytes(data), self._aad(identity))

    def open(self, sealed: bytes, identity: str) -> bytes:
        if not self.protected:
            return bytes(sealed)
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], self._aad(identity))
        except (InvalidTag, ValueError) as exc:
            raise TemplateKeyError(f"a template of {identity!r} in gallery {self.gallery!r} does not open with this "
                                   "key: wrong key, or the stored bytes were changed") from exc

    def seal_vector(self, vector: np.ndarray, identity: str) -> bytes:
        return self.seal(np.ascontiguousarray(vector, "<f4").tobytes(), identity)

    def open_vector(self, sealed: bytes, identity: str) -> np.ndarray:
        return np.frombuffer(self.open(sealed, identity), "<f4").copy()

    def _aad(self, identity: str) -> bytes:
        return self.gallery.encode() + b"\0" + identity.encode()

    # -- the cancelable transform ----------------------------------------------------------------
    @property
    def rotation(self) -> np.ndarray | None:
        """The (D, D) secret orthogonal matrix, or None without a key."""
        if self.protected and self._rotation is None:
            self._rotation = keyed_rotation(hkdf(self.key, self.salt, "rotation"), self.dim)
        return self._rotation

    def to_index(self, vectors: np.ndarray) -> np.ndarray:
        """(N, D) vectors as the index holds them: rotated by the key, or as they are."""
        v = np.ascontiguousarray(np.atleast_2d(vectors), np.float32)
        r = self.rotation
        return v if r is None else np.ascontiguousarray(v @ r.T, np.float32)

    # -- pseudonyms and the journal's key ----------------------------------------------------------
    def pseudonym(self, identity: str) -> str:
        """16 hex digits naming an identity in the journal without its name."""
        return hmac.new(hkdf(self.secret, self.salt, "pseudonym"), identity.encode(), hashlib.sha256).hexdigest()[:16]

    def journal_key(self) -> bytes:
        """The HMAC key of the journal's chain (secret only when the gallery has a key)."""
        return hkdf(self.secret, self.salt, "journal")

    def rekeyed(self, key: bytes | None) -> "TemplateProtector":
        """The same gallery secret under another key (None: in the clear)."""
        other = TemplateProtector(key, self.salt, self.dim, self.gallery)
        other.secret = self.secret
        return other


def keyed_rotation(seed: bytes, dim: int) -> np.ndarray:
    """A random orthogonal (dim, dim) matrix from an AES-CTR keystream (stable across numpy versions).

    Uniforms from the keystream, normals by Box-Muller, then the Q of a QR decomposition with
    the signs fixed so the matrix is Haar-distributed and fully determined by the seed.
    """
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    n = dim * dim
    encryptor = Cipher(algorithms.AES(seed), modes.CTR(b"\0" * 16)).encryptor()
    stream = np.frombuffer(encryptor.update(b"\0" * (8 * n)), "<u4").astype(np.float64)
    u = (stream + 0.5) / 2.0**32
    u1, u2 = u[:n], u[n:]
    normals = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    q, r = np.linalg.qr(normals.reshape(dim, dim))
    return q * np.sign(np.diag(r))[None, :]
