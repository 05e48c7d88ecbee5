"""Authenticated encryption of a backup as a stream, with libsodium's secretstream.

A backup can be gigabytes: it is sealed in chunks of at most CHUNK bytes with
XChaCha20-Poly1305 secretstream (PyNaCl), which authenticates each chunk, their order, and the
end of the stream, so a flipped byte, a reordered or a missing chunk and a truncated file are all
refused. The key comes from the passphrase with Argon2id. No construction of our own: both are
libsodium's, used as documented.

File: MAGIC, then a length-prefixed JSON header (key derivation, a key check, the stream
header), then length-prefixed sealed chunks; the last one carries the FINAL tag.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import nacl.bindings as sodium
import nacl.exceptions
import nacl.hash
import nacl.pwhash
import nacl.utils

MAGIC = b"CONSENTLENS-BACKUP 1\n"
CHUNK = 1 << 20
_LENGTH = struct.Struct(">I")
_MAX_HEADER = 4096
_OVERHEAD = sodium.crypto_secretstream_xchacha20poly1305_ABYTES
_KEY_CHECK = b"consentlens backup key check"


class BackupRefused(Exception):
    """The backup cannot be read; the message says why, in words for whoever restores it."""


class NotABackup(BackupRefused):
    pass


class WrongPassphrase(BackupRefused):
    pass


class Damaged(BackupRefused):
    pass


class Truncated(BackupRefused):
    pass


@dataclass(frozen=True, slots=True)
class KeyCost:
    """Argon2id's cost: libsodium's MODERATE by default (about 0.5-1 s and 256 MiB once)."""

    opslimit: int = nacl.pwhash.argon2id.OPSLIMIT_MODERATE
    memlimit: int = nacl.pwhash.argon2id.MEMLIMIT_MODERATE


MIN_PASSPHRASE = 12


def _key(passphrase: str, salt: bytes, cost: KeyCost) -> bytes:
    if not passphrase:
        raise ValueError("a backup passphrase is required (CONSENTLENS_BACKUP_PASSPHRASE)")
    return nacl.pwhash.argon2id.kdf(
        sodium.crypto_secretstream_xchacha20poly1305_KEYBYTES,
        passphrase.encode(),
        salt,
        opslimit=cost.opslimit,
        memlimit=cost.memlimit,
    )


_HEADER_FIELDS = ("kdf", "salt", "opslimit", "memlimit", "key_check", "stream")
_OPS = (nacl.pwhash.argon2id.OPSLIMIT_MIN, nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE)
_MEM = (nacl.pwhash.argon2id.MEMLIMIT_MIN, nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE)


def _header_check(fields: dict[str, object]) -> str:
    data = json.dumps(fields, sort_keys=True).encode()
    return nacl.hash.blake2b(data, digest_size=16, encoder=nacl.encoding.HexEncoder).decode()


def _key_check(key: bytes) -> bytes:
    return nacl.hash.blake2b(_KEY_CHECK, key=key, digest_size=16, encoder=nacl.encoding.RawEncoder)


class SealedWriter(io.RawIOBase):
    """A writable stream that seals what it is given into `target`; `close()` ends the stream."""

    def __init__(self, target: IO[bytes], passphrase: str, cost: KeyCost | None = None) -> None:
        cost = cost or KeyCost()
        if len(passphrase) < MIN_PASSPHRASE:
            raise ValueError(
                f"the backup passphrase must have at least {MIN_PASSPHRASE} characters "
                "(CONSENTLENS_BACKUP_PASSPHRASE)"
            )
        salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
        key = _key(passphrase, salt, cost)
        self._state = sodium.crypto_secretstream_xchacha20poly1305_state()
        stream_header = sodium.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        fields = {
            "kdf": "argon2id",
            "salt": _b64(salt),
            "opslimit": cost.opslimit,
            "memlimit": cost.memlimit,
            "key_check": _b64(_key_check(key)),
            "stream": _b64(stream_header),
        }
        # An unkeyed checksum of the header: damage to it is told apart from a wrong passphrase.
        header = json.dumps({**fields, "check": _header_check(fields)}).encode()
        self._target = target
        self._header = header
        target.write(MAGIC + _LENGTH.pack(len(header)) + header)
        self._buffer = bytearray()
        self._first = True
        self._ended = False

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._buffer += data
        while len(self._buffer) > CHUNK:
            self._push(bytes(self._buffer[:CHUNK]), final=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _push(self, chunk: bytes, *, final: bool) -> None:
        tag = (
            sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
            if final
            else sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
        )
        # The header is bound to the first chunk: changing it is damage, not another key.
        extra = self._header if self._first else None
        sealed = sodium.crypto_secretstream_xchacha20poly1305_push(self._state, chunk, extra, tag)
        self._target.write(_LENGTH.pack(len(sealed)) + sealed)
        self._first = False

    def close(self) -> None:
        if not self._ended:
            self._ended = True
            self._push(bytes(self._buffer), final=True)
            self._buffer.clear()
        super().close()


def open_sealed(source: IO[bytes], *, passphrase: str) -> Iterator[bytes]:
    """The plaintext chunks of a sealed stream; raises `BackupRefused` saying what is wrong."""
    if source.read(len(MAGIC)) != MAGIC:
        raise NotABackup("This file is not a ConsentLens backup.")
    length = _read_length(source, "header")
    if length is None or length > _MAX_HEADER:
        raise Damaged("The backup's header is damaged.")
    header_bytes = _read_exactly(source, length, "header")
    try:
        header = json.loads(header_bytes)
        fields = {name: header[name] for name in _HEADER_FIELDS}
        if header["check"] != _header_check(fields) or fields["kdf"] != "argon2id":
            raise ValueError("header checksum")
        salt = base64.b64decode(fields["salt"], validate=True)
        cost = KeyCost(int(fields["opslimit"]), int(fields["memlimit"]))
        check = base64.b64decode(fields["key_check"], validate=True)
        stream_header = base64.b64decode(fields["stream"], validate=True)
        # The cost is read before anything is authenticated: bounded, so a doctored header
        # cannot make a restore run for hours or take all the memory.
        if not (
            _OPS[0] <= cost.opslimit <= _OPS[1]
            and _MEM[0] <= cost.memlimit <= _MEM[1]
            and len(salt) == nacl.pwhash.argon2id.SALTBYTES
            and len(stream_header) == sodium.crypto_secretstream_xchacha20poly1305_HEADERBYTES
        ):
            raise ValueError("header values")
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise Damaged("The backup's header is damaged.") from error
    key = _key(passphrase, salt, cost)
    if not nacl.bindings.sodium_memcmp(_key_check(key), check):
        raise WrongPassphrase("Wrong passphrase: this backup was made with another one.")
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, stream_header, key)
    first = True
    while True:
        size = _read_length(source, "chunk", allow_end=True)
        if size is None:
            raise Truncated("The backup is incomplete: it ends before its last part.")
        if size > CHUNK + _OVERHEAD:
            raise Damaged("The backup is damaged (a part has an impossible length).")
        sealed = _read_exactly(source, size, "chunk")
        try:
            chunk, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(
                state, sealed, header_bytes if first else None
            )
        except nacl.exceptions.CryptoError as error:
            raise Damaged("The backup is damaged: a part of it does not check out.") from error
        first = False
        yield chunk
        if tag == sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL:
            if source.read(1):
                raise Damaged("The backup is damaged: there is data after its end.")
            return


class SealedReader(io.RawIOBase):
    """A readable stream of the plaintext (for `tarfile` in stream mode)."""

    def __init__(self, source: IO[bytes], passphrase: str) -> None:
        self._chunks = open_sealed(source, passphrase=passphrase)
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._pending and not self._done:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                self._done = True
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _read_length(source: IO[bytes], what: str, *, allow_end: bool = False) -> int | None:
    raw = source.read(_LENGTH.size)
    if not raw and allow_end:
        return None
    if len(raw) != _LENGTH.size:
        raise Truncated(f"The backup is incomplete: it ends inside a {what}.")
    (value,) = _LENGTH.unpack(raw)
    return int(value)


def _read_exactly(source: IO[bytes], size: int, what: str) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise Truncated(f"The backup is incomplete: it ends inside a {what}.")
    return data
