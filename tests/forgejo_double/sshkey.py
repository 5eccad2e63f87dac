"""SSH public keys as Forgejo reads them when a key is added (POST /admin/users/{username}/keys,
POST /user/keys): the same checks in the same order, failing with the same error texts.

Forgejo (models/asymkey/ssh_key_parse.go, `CheckPublicKeyString`) reads the key text with
`parseKeyString`, which calls golang.org/x/crypto/ssh's `ParseAuthorizedKey`, then measures the
key (`SSHNativeParsePublicKey`, the default with no SSH_KEYGEN_PATH) against
[ssh.minimum_key_sizes]; the fingerprint is `ssh.FingerprintSHA256` (models/asymkey/
ssh_key_fingerprint.go, `calcFingerprintNative`). This module ports those functions, and the
parts of Go's encoding/base64 and x/crypto/ssh whose error texts reach the API's message.

Error texts follow Forgejo 17.0-dev (the version of the spec the double loads), which uses
x/crypto v0.53: `ParseAuthorizedKey` says "ssh: no key found; last parsing error for ignored
line: ...". Forgejo v7-v11 (x/crypto v0.24-v0.36) say only "ssh: no key found": set
LAST_PARSING_ERROR to False to answer as they do. Not ported: SSH certificates
(`*-cert-v01@openssh.com`) and PEM/PKIX public keys (`-----BEGIN PUBLIC KEY-----`), which real
Forgejo accepts and the double refuses with a message saying so.
"""

import base64
import hashlib
import re

LAST_PARSING_ERROR = True

# modules/setting/ssh.go: MinimumKeySizes defaults (MINIMUM_KEY_SIZE_CHECK defaults to true).
# A type not listed (dsa) is refused: "key type is not allowed".
MINIMUM_KEY_SIZES = {"ed25519": 256, "ed25519-sk": 256, "ecdsa": 256, "ecdsa-sk": 256, "rsa": 3071}

SSH2_KEY_START = "---- BEGIN SSH2 PUBLIC KEY ----"

# Short Weierstrass curves y^2 = x^3 - 3x + b (mod p), for elliptic.Unmarshal's on-curve check.
CURVES = {
    "nistp256": (
        2**256 - 2**224 + 2**192 + 2**96 - 1,
        0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
        256,
    ),
    "nistp384": (
        2**384 - 2**128 - 2**96 + 2**32 - 1,
        0xB3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875AC656398D8A2ED19D2A85C8EDD3EC2AEF,
        384,
    ),
    "nistp521": (
        2**521 - 1,
        0x0051953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF109E156193951EC7E937B1652C0BD3BB1BF073573DF883D2C34F1EF451FD46B503F00,
        521,
    ),
}

CERT_ALGOS = {
    "ssh-rsa-cert-v01@openssh.com",
    "ssh-dss-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ssh-ed25519-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
}

# x/crypto/ssh common.go keyFormatForAlgorithm, for signature algorithms used as key types.
SIGNATURE_ALGOS = {
    "rsa-sha2-256": "ssh-rsa",
    "rsa-sha2-512": "ssh-rsa",
    "rsa-sha2-256-cert-v01@openssh.com": "ssh-rsa-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com": "ssh-rsa-cert-v01@openssh.com",
}

SHORT_READ = "ssh: short read"


class GoError(Exception):
    """An error with the text Go's `err.Error()` would give."""


class UnableToVerify(GoError):
    """asymkey_model.ErrKeyUnableVerify: the API answers "Unable to verify key content"."""


class NotPorted(GoError):
    """A key form real Forgejo accepts but the double does not read."""


# -- Go's encoding/base64 StdEncoding.Decode, with its error offsets -------------------------

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_DECODE = {c: i for i, c in enumerate(_ALPHABET)}


def go_b64decode(src):
    """(decoded bytes, error text or None), as base64.StdEncoding.Decode (padded, not strict;
    '\\r' and '\\n' are skipped) returns them: the error is "illegal base64 data at input byte N"
    with Go's N."""
    out = bytearray()
    si = 0
    n = len(src)
    while si < n:
        dbuf = [0, 0, 0, 0]
        dlen = 4
        err = None
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return bytes(out), None
                return bytes(out), f"illegal base64 data at input byte {si - j}"  # padding required
            c = src[si]
            si += 1
            if c in _DECODE:
                dbuf[j] = _DECODE[c]
                j += 1
                continue
            if c in (0x0A, 0x0D):
                continue
            if c != 0x3D:  # '='
                return bytes(out), f"illegal base64 data at input byte {si - 1}"
            if j in (0, 1):
                return bytes(out), f"illegal base64 data at input byte {si - 1}"
            if j == 2:
                while si < n and src[si] in (0x0A, 0x0D):
                    si += 1
                if si == n:
                    return bytes(out), f"illegal base64 data at input byte {n}"
                if src[si] != 0x3D:
                    return bytes(out), f"illegal base64 data at input byte {si - 1}"
                si += 1
            while si < n and src[si] in (0x0A, 0x0D):
                si += 1
            if si < n:
                err = f"illegal base64 data at input byte {si}"  # trailing garbage
            dlen = j
            break
        val = dbuf[0] << 18 | dbuf[1] << 12 | dbuf[2] << 6 | dbuf[3]
        chunk = bytes([(val >> 16) & 0xFF, (val >> 8) & 0xFF, val & 0xFF])
        out += chunk[: dlen - 1]
        if err is not None:
            return bytes(out), err
    return bytes(out), None


# -- SSH wire format (x/crypto/ssh messages.go) ----------------------------------------------


def _parse_string(data):
    if len(data) < 4:
        return None
    length = int.from_bytes(data[:4], "big")
    if len(data) - 4 < length:
        return None
    return data[4 : 4 + length], data[4 + length :]


def _mpint(contents):
    if contents and contents[0] & 0x80:
        return int.from_bytes(bytes(~b & 0xFF for b in contents), "big") * -1 - 1
    return int.from_bytes(contents, "big")


def _marshal_string(b):
    return len(b).to_bytes(4, "big") + b


def _marshal_mpint(value):
    """ssh.Marshal of a *big.Int (non-negative here)."""
    if value == 0:
        return _marshal_string(b"")
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if raw[0] & 0x80:
        raw = b"\x00" + raw
    return _marshal_string(raw)


class _Fields:
    """ssh.Unmarshal into an anonymous struct: its fields read in order, failing as it fails."""

    def __init__(self, data):
        self.data = data

    def string(self, field):
        got = _parse_string(self.data)
        if got is None:
            # fieldError(t, i, ""): the struct is anonymous, so its type name is empty.
            raise GoError(f"ssh: unmarshal error for field {field} of type ")
        value, self.data = got
        return value.decode("latin-1")

    def bytes(self):
        got = _parse_string(self.data)
        if got is None:
            raise GoError(SHORT_READ)
        value, self.data = got
        return value

    def int(self):
        got = _parse_string(self.data)
        if got is None:
            raise GoError(SHORT_READ)
        value, self.data = got
        return _mpint(value)


def _curve_point(curve, point):
    """elliptic.Unmarshal: an uncompressed point on the curve, or None."""
    p, b, bits = CURVES[curve]
    size = (bits + 7) // 8
    if len(point) != 1 + 2 * size or point[0] != 4:
        return None
    x = int.from_bytes(point[1 : 1 + size], "big")
    y = int.from_bytes(point[1 + size :], "big")
    if x >= p or y >= p or (y * y - (x * x * x - 3 * x + b)) % p != 0:
        return None
    return x, y


def parse_public_key(blob):
    """ssh.ParsePublicKey: a dict with the key's type, Forgejo's size class and bit length,
    and its ssh.Marshal form (what the fingerprint hashes)."""
    got = _parse_string(blob)
    if got is None:
        raise GoError(SHORT_READ)
    algo_bytes, rest = got
    algo = algo_bytes.decode("latin-1")
    key, rest = _parse_pub_key(rest, algo)
    if rest:
        raise GoError("ssh: trailing junk in public key")
    return key


def _parse_pub_key(data, algo):
    f = _Fields(data)
    if algo == "ssh-rsa":
        e, n = f.int(), f.int()
        if abs(n).bit_length() > 8192:
            raise GoError("ssh: rsa modulus too large")
        if abs(e).bit_length() > 24:
            raise GoError("ssh: exponent too large")
        if e < 3 or e & 1 == 0:
            raise GoError("ssh: incorrect exponent")
        marshal = _marshal_string(b"ssh-rsa") + _marshal_mpint(e) + _marshal_mpint(n)
        return {"type": algo, "class": "rsa", "bits": abs(n).bit_length(), "marshal": marshal}, f.data
    if algo == "ssh-dss":
        p, q, g, y = f.int(), f.int(), f.int(), f.int()
        if abs(p).bit_length() != 1024:
            raise GoError(f"ssh: unsupported DSA key size {abs(p).bit_length()}")
        if abs(q).bit_length() != 160:
            raise GoError(f"ssh: unsupported DSA sub-prime size {abs(q).bit_length()}")
        if g >= p:
            raise GoError("ssh: DSA generator larger than modulus")
        if g <= 0:
            raise GoError("ssh: DSA generator must be positive")
        if y <= 0 or y >= p:
            raise GoError("ssh: DSA public value Y out of range")
        marshal = _marshal_string(b"ssh-dss") + b"".join(_marshal_mpint(v) for v in (p, q, g, y))
        return {"type": algo, "class": "dsa", "bits": abs(p).bit_length(), "marshal": marshal}, f.data
    if algo in ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"):
        curve, point = f.string("Curve"), f.bytes()
        if algo != "ecdsa-sha2-" + curve:
            raise GoError(
                f'ssh: algorithm type mismatch: expected "{algo}", found curve "{curve}" (type "ecdsa-sha2-{curve}")'
            )
        if curve not in CURVES:
            raise GoError("ssh: unsupported curve")
        if _curve_point(curve, point) is None:
            raise GoError("ssh: invalid curve point")
        marshal = _marshal_string(algo.encode()) + _marshal_string(curve.encode()) + _marshal_string(point)
        return {"type": algo, "class": "ecdsa", "bits": CURVES[curve][2], "marshal": marshal}, f.data
    if algo == "sk-ecdsa-sha2-nistp256@openssh.com":
        curve, point, application = f.string("Curve"), f.bytes(), f.string("Application")
        if curve != "nistp256":
            raise GoError("ssh: unsupported curve")
        if _curve_point(curve, point) is None:
            raise GoError("ssh: invalid curve point")
        marshal = b"".join(_marshal_string(v) for v in (algo.encode(), curve.encode(), point, application.encode("latin-1")))
        return {"type": algo, "class": "ecdsa-sk", "bits": 256, "marshal": marshal}, f.data
    if algo == "ssh-ed25519":
        key = f.bytes()
        if len(key) != 32:
            raise GoError(f"invalid size {len(key)} for Ed25519 public key")
        marshal = _marshal_string(b"ssh-ed25519") + _marshal_string(key)
        return {"type": algo, "class": "ed25519", "bits": 256, "marshal": marshal}, f.data
    if algo == "sk-ssh-ed25519@openssh.com":
        key, application = f.bytes(), f.string("Application")
        if len(key) != 32:
            raise GoError(f"invalid size {len(key)} for Ed25519 public key")
        marshal = b"".join(_marshal_string(v) for v in (algo.encode(), key, application.encode("latin-1")))
        return {"type": algo, "class": "ed25519-sk", "bits": 256, "marshal": marshal}, f.data
    if algo in CERT_ALGOS:
        raise NotPorted("the Forgejo double does not read SSH certificates")
    if algo in SIGNATURE_ALGOS:
        raise GoError(
            f'ssh: signature algorithm "{algo}" isn\'t a key format; key is malformed and should be re-encoded with type "{SIGNATURE_ALGOS[algo]}"'
        )
    raise GoError(f"ssh: unknown key algorithm: {algo}")


# -- x/crypto/ssh keys.go ParseAuthorizedKey -------------------------------------------------

_SPACE = b" \t\n\v\f\r"


def _index_any(data, chars=b" \t"):
    for i, c in enumerate(data):
        if c in chars:
            return i
    return -1


def _parse_authorized_key_fields(data):
    """parseAuthorizedKey: the key in `base64 [comment]` (options and type already cut)."""
    data = data.strip(_SPACE)
    i = _index_any(data)
    if i == -1:
        i = len(data)
    blob, err = go_b64decode(data[:i])
    if err is not None:
        raise GoError(err)
    return parse_public_key(blob)


def parse_authorized_key(text):
    """ssh.ParseAuthorizedKey: the first line that holds a key, tried as `type base64 comment`
    and then as `options type base64 comment`."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    last_error = None
    while data:
        end = data.find(b"\n")
        if end != -1:
            line, rest = data[:end], data[end + 1 :]
        else:
            line, rest = data, b""
        end = line.find(b"\r")
        if end != -1:
            line = line[:end]
        line = line.strip(_SPACE)
        if not line or line[0:1] == b"#":
            data = rest
            continue
        i = _index_any(line)
        if i == -1:
            data = rest
            continue
        try:
            return _parse_authorized_key_fields(line[i:])
        except NotPorted:
            raise
        except GoError as error:
            last_error = error
        # No key type recognised: maybe an options field comes first.
        in_quote = False
        option_start = 0
        i = 0
        for i, b in enumerate(line):
            is_end = not in_quote and b in (0x20, 0x09)
            if (b == 0x2C and not in_quote) or is_end:
                option_start = i + 1
            if is_end:
                break
            if b == 0x22 and (i == 0 or line[i - 1] != 0x5C):
                in_quote = not in_quote
        while i < len(line) and line[i] in (0x20, 0x09):
            i += 1
        if i == len(line):
            data = rest
            continue
        line = line[i:]
        i = _index_any(line)
        if i == -1:
            data = rest
            continue
        try:
            return _parse_authorized_key_fields(line[i:])
        except NotPorted:
            raise
        except GoError as error:
            last_error = error
        data = rest
    if last_error is not None and LAST_PARSING_ERROR:
        raise GoError(f"ssh: no key found; last parsing error for ignored line: {last_error}")
    raise GoError("ssh: no key found")


# -- Forgejo: models/asymkey/ssh_key_parse.go ------------------------------------------------


def _extract_type_from_base64_key(text):
    blob, err = go_b64decode(text.encode("latin-1", "replace"))
    if err is not None or len(blob) < 4:
        # fmt.Errorf("invalid key format: %w", err) with a nil err prints %!w(<nil>).
        raise GoError(f"invalid key format: {err if err is not None else '%!w(<nil>)'}")
    length = int.from_bytes(blob[:4], "big")
    if len(blob) < 4 + length:
        raise GoError(f"invalid key format: not enough length {length}")
    return blob[4 : 4 + length].decode("latin-1")


_PEM_BLOCK = re.compile(r"-----BEGIN ([^\n]*?)-----\n(.*?)-----END \1-----", re.S)


def _parse_key_string(content):
    """parseKeyString: `type base64 comment` from OpenSSH, SSH2 (RFC 4716) or PEM text."""
    content = content.strip()
    key_type = key_content = key_comment = ""
    if content.startswith(SSH2_KEY_START):
        content = content.replace("\r\n", "\n").replace("\r", "\n")
        continuation = False
        for line in content.split("\n"):
            if continuation or ":" in line or "-" in line:
                continuation = line.endswith("\\")
            else:
                key_content += line
        try:
            key_type = _extract_type_from_base64_key(key_content)
        except GoError as error:
            raise GoError(f"extractTypeFromBase64Key: {error}")
    else:
        if "-----BEGIN" in content:
            content = content.replace("\r\n", "\n").replace("\r", "\n")
            block = _PEM_BLOCK.search(content)
            if block is None:
                raise GoError("failed to parse PEM block containing the public key")
            if "PRIVATE" in block.group(1):
                raise GoError("the provided key is a private key")  # ErrKeyIsPrivate
            raise NotPorted("the Forgejo double does not read PEM public keys")
        content = content.replace("\r\n", "").replace("\n", "")
        parts = content.split(" ", 2)
        if len(parts) == 1:
            key_content = parts[0]
        elif len(parts) == 2:
            key_type, key_content = parts
        else:
            key_type, key_content, key_comment = parts
        try:
            found = _extract_type_from_base64_key(key_content)
        except GoError as error:
            raise GoError(f"extractTypeFromBase64Key: {error}")
        if not key_type:
            key_type = found
        elif key_type != found:
            raise GoError(f"key type and content does not match: {key_type} - {found}")
    line = f"{key_type} {key_content} {key_comment}"
    try:
        parse_authorized_key(line)
    except NotPorted:
        raise
    except GoError as error:
        raise GoError(f"invalid ssh public key: {error}")
    return line


def check_public_key_string(text):
    """CheckPublicKeyString: the key line Forgejo stores (`type base64 comment`, trimmed) and
    the parsed key. Raises GoError (the API says "Invalid key content: " + its text),
    UnableToVerify or NotPorted."""
    content = _parse_key_string(text).rstrip("\n\r")
    if "\n" in content or "\r" in content:
        raise GoError("only a single line with a single key please")
    content = content.strip()
    # SSHNativeParsePublicKey: the second field, decoded and parsed again, gives type and size.
    fields = content.split()
    if len(fields) < 2:
        raise GoError(f"SSHNativeParsePublicKey: not enough fields in public key line: {content}")
    blob, err = go_b64decode(fields[1].encode("latin-1", "replace"))
    if err is not None:
        raise GoError(f"SSHNativeParsePublicKey: {err}")
    try:
        key = parse_public_key(blob)
    except NotPorted:
        raise
    except GoError as error:
        if "ssh: unknown key algorithm" in str(error):
            raise UnableToVerify(str(error))
        raise GoError(f"SSHNativeParsePublicKey: ParsePublicKey: {error}")
    minimum = MINIMUM_KEY_SIZES.get(key["class"])
    if minimum is None:
        raise GoError(f"key type is not allowed: {key['class']}")
    if key["bits"] < minimum:
        raise GoError(f"key length is not enough: got {key['bits']}, needs {minimum}")
    return content, key


def fingerprint(key):
    """ssh.FingerprintSHA256: "SHA256:" and the unpadded base64 of the SHA-256 of the key's wire
    form, as `ssh-keygen -lf` prints it."""
    digest = hashlib.sha256(key["marshal"]).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")
