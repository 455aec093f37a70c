"""Envelope encryption of stored files: a random data key per object, AES-256-GCM in chunks.

An encrypted object is  MAGIC | nonce prefix (8 bytes) | frames, each frame
`length (4 bytes, big-endian) | AES-GCM(chunk)` with the nonce `prefix | frame counter` and the
associated data `MAGIC | counter | final flag`: frames cannot be reordered, dropped or the
object truncated without decryption failing. Plaintext chunks are 64 KiB, so encrypting and
decrypting stream with constant memory whatever the file size.

The data key never reaches object storage: it is kept in the database (apps.core.models.
StoredObjectKey), encrypted with the field-encryption key set, so `rotate_encryption_keys`
re-wraps every file's key without touching the objects, and deleting the key row destroys the
file's content even where the object itself lingers.
"""

import io
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"TCRMENC1"
CHUNK = 64 * 1024
TAG = 16
_LENGTH = struct.Struct(">I")


class DecryptionError(Exception):
    """The object is corrupted, truncated, or was encrypted with another data key."""


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _nonce(prefix: bytes, counter: int) -> bytes:
    return prefix + counter.to_bytes(4, "big")


def _aad(counter: int, final: bool) -> bytes:
    return MAGIC + counter.to_bytes(4, "big") + (b"\x01" if final else b"\x00")


class EncryptingReader(io.RawIOBase):
    """A read()-only file whose bytes are the encryption of `source` (read in 64 KiB chunks)."""

    def __init__(self, source, data_key: bytes):
        self._source = source
        self._aead = AESGCM(data_key)
        self._prefix = os.urandom(8)
        self._counter = 0
        self._buffer = bytearray(MAGIC + self._prefix)
        self._next = self._read_chunk()
        self._done = False

    def readable(self) -> bool:
        return True

    def _read_chunk(self) -> bytes:
        parts, wanted = [], CHUNK
        while wanted:  # a source may return short reads before its end
            part = self._source.read(wanted)
            if not part:
                break
            parts.append(part)
            wanted -= len(part)
        return b"".join(parts)

    def _fill(self, size: int) -> None:
        while not self._done and (size < 0 or len(self._buffer) < size):
            chunk = self._next
            self._next = self._read_chunk() if len(chunk) == CHUNK else b""
            final = not self._next
            sealed = self._aead.encrypt(_nonce(self._prefix, self._counter), chunk, _aad(self._counter, final))
            self._buffer += _LENGTH.pack(len(sealed)) + sealed
            self._counter += 1
            self._done = final

    def read(self, size: int = -1) -> bytes:
        self._fill(size if size is not None else -1)
        if size is None or size < 0:
            size = len(self._buffer)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def readinto(self, target) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)


class DecryptingReader(io.RawIOBase):
    """Plaintext read from an encrypted stream (S3's streaming body), one frame at a time."""

    def __init__(self, raw, data_key: bytes):
        self._raw = raw
        self._aead = AESGCM(data_key)
        header = self._exact(len(MAGIC) + 8)
        if header[: len(MAGIC)] != MAGIC:
            raise DecryptionError("Not an encrypted object.")
        self._prefix = header[len(MAGIC):]
        self._counter = 0
        self._buffer = bytearray()
        self._pending = self._read_frame()
        self._done = False

    def readable(self) -> bool:
        return True

    def _exact(self, size: int) -> bytes:
        parts, wanted = [], size
        while wanted:
            part = self._raw.read(wanted)
            if not part:
                break
            parts.append(part)
            wanted -= len(part)
        return b"".join(parts)

    def _read_frame(self) -> bytes | None:
        head = self._exact(_LENGTH.size)
        if not head:
            return None
        if len(head) < _LENGTH.size:
            raise DecryptionError("Truncated object.")
        (length,) = _LENGTH.unpack(head)
        if length > CHUNK + TAG:
            raise DecryptionError("Corrupted frame.")
        body = self._exact(length)
        if len(body) < length:
            raise DecryptionError("Truncated object.")
        return body

    def _fill(self, size: int) -> None:
        while not self._done and (size < 0 or len(self._buffer) < size):
            frame = self._pending
            if frame is None:
                raise DecryptionError("Truncated object.")
            self._pending = self._read_frame()
            final = self._pending is None
            try:
                chunk = self._aead.decrypt(_nonce(self._prefix, self._counter), frame, _aad(self._counter, final))
            except InvalidTag:
                raise DecryptionError("Stored file cannot be decrypted (corrupted or wrong key).") from None
            self._buffer += chunk
            self._counter += 1
            self._done = final

    def read(self, size: int = -1) -> bytes:
        self._fill(size if size is not None else -1)
        if size is None or size < 0:
            size = len(self._buffer)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def readinto(self, target) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def close(self) -> None:
        close = getattr(self._raw, "close", None)
        if close is not None:
            close()
        super().close()


def encrypt_bytes(data: bytes, data_key: bytes) -> bytes:
    return EncryptingReader(io.BytesIO(data), data_key).read()


def decrypt_bytes(data: bytes, data_key: bytes) -> bytes:
    return DecryptingReader(io.BytesIO(data), data_key).read()
