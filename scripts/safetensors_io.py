"""Minimal safetensors reader and writer over numpy (no dependency on the `safetensors` package).

Format: an 8-byte little-endian header length, a JSON header
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then raw little-endian data.
"""
import json
import os
import struct

import numpy as np

DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8"), "I64": np.dtype("<i8"), "I32": np.dtype("<i4"),
          "F16": np.dtype("<f2"), "U8": np.dtype("u1"), "BOOL": np.dtype("?")}
NAMES = {np.dtype(v).newbyteorder("<"): k for k, v in DTYPES.items()}


def load(path):
    """Returns {name: numpy array} for every tensor of a safetensors file, checking sizes and offsets."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: shorter than 8 bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError(f"{path}: header length {n} past the end of the file ({len(raw)} bytes)")
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out, cursor = {}, 0
    entries = sorted(((k, v) for k, v in header.items() if k != "__metadata__"), key=lambda kv: kv[1]["data_offsets"])
    for name, info in entries:
        dtype, shape, (begin, end) = DTYPES[info["dtype"]], info["shape"], info["data_offsets"]
        if begin != cursor or end - begin != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
            raise ValueError(f"{path}: tensor {name!r} has bad data_offsets [{begin}, {end}]")
        out[name] = np.frombuffer(data, dtype=dtype, count=(end - begin) // dtype.itemsize,
                                  offset=begin).reshape(shape) if end > begin else np.zeros(shape, dtype)
        cursor = end
    if cursor != len(data):
        raise ValueError(f"{path}: data region holds {len(data)} bytes, tensors cover {cursor}")
    return out


def save(path, tensors, metadata=None):
    """Writes {name: numpy array} (in the given order) atomically: to a temporary file, fsynced, renamed."""
    header, offset, blobs = {}, 0, []
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, value in tensors.items():
        a = np.asarray(value)  # np.ascontiguousarray would turn a 0-d array into shape (1,)
        a = a.astype(a.dtype.newbyteorder("<"), order="C", copy=not a.flags.c_contiguous)
        header[name] = {"dtype": NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for blob in blobs:
            f.write(blob)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
