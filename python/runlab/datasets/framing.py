"""The chunk wire framing of ``POST /api/chunks`` and ``POST /api/chunks/fetch``, as the contract
(server/src/contract/) states it:

    32 bytes  sha256 of the uncompressed bytes (binary digest)
     1 byte   codec: 0 = raw, 1 = zstd frame
     4 bytes  uncompressed length, big-endian uint32
     4 bytes  payload length, big-endian uint32
     payload
"""

from __future__ import annotations

import hashlib
import struct
import threading
from collections.abc import Iterator

HEADER = struct.Struct(">32sBII")
CODEC_RAW = 0
CODEC_ZSTD = 1
MAX_CHUNK_BYTES = 1024 * 1024

_local = threading.local()


def _compressor() -> object:
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        import zstandard

        compressor = _local.compressor = zstandard.ZstdCompressor(level=1)
    return compressor


def _decompressor() -> object:
    decompressor = getattr(_local, "decompressor", None)
    if decompressor is None:
        import zstandard

        decompressor = _local.decompressor = zstandard.ZstdDecompressor()
    return decompressor


def frame(digest: bytes, data: bytes | memoryview, *, compress: bool = True) -> bytes:
    """One framed chunk; zstd level 1 when that makes it smaller, raw otherwise."""
    if compress:
        packed = _compressor().compress(data)  # type: ignore[attr-defined]
        if len(packed) < len(data):
            return HEADER.pack(digest, CODEC_ZSTD, len(data), len(packed)) + packed
    return HEADER.pack(digest, CODEC_RAW, len(data), len(data)) + bytes(data)


class ChunkProblem(Exception):
    """A received chunk is not what its hash says; ``digest`` names it."""

    def __init__(self, digest: bytes, problem: str) -> None:
        super().__init__(problem)
        self.digest = digest
        self.problem = problem


def parse(body: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(digest, uncompressed bytes) of each framed chunk, each one verified: its length and its
    sha256 must match the header, or ChunkProblem is raised before it is yielded."""
    view = memoryview(body)
    offset = 0
    while offset < len(body):
        if len(body) - offset < HEADER.size:
            raise ChunkProblem(b"", f"truncated frame header at byte {offset}")
        digest, codec, raw_size, payload_size = HEADER.unpack_from(body, offset)
        start = offset + HEADER.size
        payload = view[start : start + payload_size]
        if len(payload) != payload_size:
            raise ChunkProblem(digest, f"truncated payload ({payload_size} bytes announced, {len(payload)} present)")
        if raw_size > MAX_CHUNK_BYTES:
            raise ChunkProblem(digest, f"uncompressed length {raw_size} is over the limit")
        if codec == CODEC_RAW:
            data = bytes(payload)
        elif codec == CODEC_ZSTD:
            try:
                data = _decompressor().decompress(payload, max_output_size=raw_size)  # type: ignore[attr-defined]
            except Exception as error:
                raise ChunkProblem(digest, f"does not decompress ({error})") from error
        else:
            raise ChunkProblem(digest, f"unknown codec {codec}")
        if len(data) != raw_size:
            raise ChunkProblem(digest, f"is {len(data)} bytes, the header says {raw_size}")
        if hashlib.sha256(data).digest() != digest:
            raise ChunkProblem(digest, "content does not match its sha256")
        yield digest, data
        offset = start + payload_size
