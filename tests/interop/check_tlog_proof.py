"""An auditor's check of an Accord proof file, written from public texts alone:

- RFC 9162 section 2.1 (Merkle tree hashing, inclusion proof verification),
- C2SP signed-note (note format, key names and ids, Ed25519 signatures),
- C2SP tlog-checkpoint (origin, tree size, root hash lines),
- C2SP tlog-cosignature (cosignature/v1: timestamped Ed25519, key type 0x04),
- C2SP tlog-proof (c2sp.org/tlog-proof@v1 files),
- and Accord's proto/EVIDENCE.md (leaf = SHA-256(0x00 || the event's hash)) and
  proto/accord/v1/envelope.proto (the event's canonical bytes and hash).

Only hashlib and the `cryptography` package; nothing from Accord's code.

    check_tlog_proof.py PROOF ENVELOPE --log-key VKEY --witness VKEY [--witness VKEY]... [--threshold K]

Prints what holds and exits 0, or prints why not and exits 1.
"""

import argparse
import base64
import hashlib
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Refused(Exception):
    pass


# --- signed-note keys -----------------------------------------------------------

def parse_vkey(text, key_type):
    """<name>+<hex key id>+base64(type || 32-byte key); the id must be
    SHA-256(name || 0x0A || type || key)[:4]."""
    name, key_id, data = text.strip().split("+", 2)
    raw = base64.b64decode(data, validate=True)
    if raw[0] != key_type or len(raw) != 33:
        raise Refused(f"{name}: not a key of type 0x{key_type:02x}")
    expected = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if bytes.fromhex(key_id) != expected:
        raise Refused(f"{name}: key id {key_id} is not {expected.hex()}")
    return name, expected, Ed25519PublicKey.from_public_bytes(raw[1:])


def parse_note(text):
    """Text (ending in a newline), an empty line, then lines '— <name> <base64>'."""
    body, sep, signatures = text.rpartition("\n\n")
    if not sep:
        raise Refused("the note has no signature block")
    lines = []
    for line in signatures.rstrip("\n").split("\n"):
        if not line.startswith("\u2014 "):
            raise Refused(f"not a signature line: {line!r}")
        name, data = line[2:].split(" ", 1)
        lines.append((name, base64.b64decode(data, validate=True)))
    return body + "\n", lines


# --- RFC 9162 ---------------------------------------------------------------------

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion_proof(index, size, leaf, proof):
    """RFC 9162 section 2.1.3.2, step by step."""
    if index >= size:
        raise Refused(f"index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Refused("the inclusion proof is too long")
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Refused("the inclusion proof is too short")
    return r


# --- the event: envelope.proto ---------------------------------------------------

def varint(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def fields(data):
    """Protobuf fields as {number: [value, ...]}: ints for varints, bytes otherwise."""
    out, at = {}, 0
    while at < len(data):
        key, at = varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = varint(data, at)
        elif wire == 2:
            length, at = varint(data, at)
            value, at = data[at:at + length], at + length
        else:
            raise Refused(f"unexpected wire type {wire} for field {number}")
        out.setdefault(number, []).append(value)
    return out


def one(f, number, default):
    return f.get(number, [default])[-1]


def canonical_hash(envelope):
    """SHA-256 over the canonical bytes envelope.proto lists, in its order."""
    f = fields(envelope)
    text = lambda n: one(f, n, b"")
    def string(b):
        return struct.pack(">I", len(b)) + b
    def uuid_bytes(b):
        return bytes.fromhex(b.decode().replace("-", ""))
    def timestamp(b):
        t = fields(b)
        return struct.pack(">qI", signed64(one(t, 1, 0)), one(t, 2, 0))
    stream = fields(text(2))
    out = b"accord.v1.EventEnvelope\x00"
    out += uuid_bytes(text(1))
    out += string(one(stream, 1, b"")) + string(one(stream, 2, b""))
    out += struct.pack(">QQ", one(f, 3, 0), one(f, 4, 0))
    out += string(text(5)) + struct.pack(">I", one(f, 6, 0)) + string(text(7))
    out += timestamp(text(8)) + timestamp(text(9))
    out += string(text(10)) + uuid_bytes(text(11)) + uuid_bytes(text(12))
    out += b"\x01" + uuid_bytes(text(13)) if text(13) else b"\x00"
    out += b"\x01" + string(text(14)) if text(14) else b"\x00"
    out += text(15)
    if text(17):
        out += b"\x01" + text(17)
    return hashlib.sha256(out).digest(), text(16), one(f, 4, 0)


def signed64(value):
    return value - (1 << 64) if value >= 1 << 63 else value


# --- the proof file ---------------------------------------------------------------

def check(proof_text, envelope, log_key, witnesses, threshold):
    head, sep, checkpoint = proof_text.partition("\n\n")
    if not sep:
        raise Refused("no empty line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        raise Refused("not a c2sp.org/tlog-proof@v1 file")
    lines = lines[1:]
    if lines and lines[0].startswith("extra "):
        lines = lines[1:]
    if not lines or not lines[0].startswith("index "):
        raise Refused("no index line")
    index = int(lines[0][len("index "):])
    path = [base64.b64decode(line, validate=True) for line in lines[1:]]
    if any(len(h) != 32 for h in path):
        raise Refused("a proof hash is not 32 bytes")

    computed, stored, position = canonical_hash(envelope)
    if computed != stored:
        raise Refused("the envelope does not hash to its stored hash: it was altered")
    if position != index + 1:
        raise Refused(f"the event is at position {position}, the proof is for index {index}")

    text, signatures = parse_note(checkpoint)
    origin, size, root = text.rstrip("\n").split("\n")[:3]
    size, root = int(size), base64.b64decode(root, validate=True)
    log_name, log_id, log_public = log_key
    if origin != log_name:
        raise Refused(f"the checkpoint is of {origin}, not {log_name}")
    signed_by_log = False
    for name, data in signatures:
        if name == log_name and data[:4] == log_id:
            try:
                log_public.verify(data[4:], text.encode())
                signed_by_log = True
            except InvalidSignature:
                raise Refused("the log's signature does not verify")
    if not signed_by_log:
        raise Refused("no signature by the log's key")

    if root_from_inclusion_proof(index, size, leaf_hash(stored), path) != root:
        raise Refused("the event is not in the checkpoint's tree")

    cosigned = []
    for w_name, w_id, w_public in witnesses:
        for name, data in signatures:
            if name != w_name or data[:4] != w_id:
                continue
            if len(data) != 4 + 8 + 64:
                raise Refused(f"{name}: not a cosignature/v1")
            timestamp = struct.unpack(">Q", data[4:12])[0]
            message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
            try:
                w_public.verify(data[12:], message)
            except InvalidSignature:
                raise Refused(f"{name}: the cosignature does not verify")
            cosigned.append((name, timestamp))
    if len(cosigned) < threshold:
        raise Refused(f"{len(cosigned)} of the witnesses co-signed, {threshold} needed")
    return origin, position, size, cosigned


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("proof")
    parser.add_argument("envelope")
    parser.add_argument("--log-key", required=True)
    parser.add_argument("--witness", action="append", default=[])
    parser.add_argument("--threshold", type=int)
    args = parser.parse_args()
    try:
        log_key = parse_vkey(args.log_key, 0x01)
        witnesses = [parse_vkey(w, 0x04) for w in args.witness]
        with open(args.proof, encoding="utf-8") as f:
            proof = f.read()
        with open(args.envelope, "rb") as f:
            envelope = f.read()
        threshold = len(witnesses) if args.threshold is None else args.threshold
        origin, position, size, cosigned = check(proof, envelope, log_key, witnesses, threshold)
    except (Refused, ValueError, IndexError, KeyError) as why:
        print(f"proof refused: {why}")
        return 1
    print(f"proof holds: the event at position {position} is in {origin} at size {size}")
    for name, timestamp in cosigned:
        print(f"co-signed by {name} at {timestamp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
