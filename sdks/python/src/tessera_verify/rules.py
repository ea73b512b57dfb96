"""Tessera's rules (SPEC 3.5 endpoint scopes, 3.6 IP allowlists, 3.2 token format), ported
from @tessera/rules line for line so a request gets the same answer in every language. The
shared vectors (../shared/vectors) and the conformance corpus (sdks/corpus) prove it."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Optional, Sequence, Union

__all__ = [
    "EndpointPattern", "IpRange", "RuleError", "normalize_path", "parse_endpoint_pattern",
    "parse_endpoint_patterns", "matches_endpoint", "parse_ip_address", "parse_ip_entry",
    "parse_ip_allowlist", "is_ip_allowed", "resolve_client_address", "is_api_token",
    "parse_relative_expiry",
]


class RuleError(ValueError):
    """An endpoint pattern or IP allowlist entry that does not parse; the message says the fix."""


# --- endpoint scopes (SPEC 3.5) -------------------------------------------------------------

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MAX_PATTERN_LENGTH = 1024
MAX_PATTERNS = 100
_EDGE_SPACE = re.compile(r"^[ \t]+|[ \t]+$")


@dataclass(frozen=True)
class EndpointPattern:
    methods: Optional[tuple[str, ...]]
    path: str
    prefix: bool


def _strip(text: str) -> str:
    return _EDGE_SPACE.sub("", text)


def _read_pattern(line: str) -> Union[EndpointPattern, str]:
    if len(line) > MAX_PATTERN_LENGTH:
        return f"it is longer than {MAX_PATTERN_LENGTH} characters"
    text = _strip(line)
    if text == "":
        return "it is empty; write a path such as /plans"
    if re.search(r"[\x00-\x08\x0a-\x1f\x7f]", text):
        return "it contains a line break or control character"
    methods: Optional[list[str]] = None
    path = text
    if not text.startswith("/"):
        split = re.match(r"^([^ \t]+)[ \t]+(.*)$", text, re.S)
        if split is None:
            return "a path starts with /"
        head, path = split.group(1), split.group(2)
        if not path.startswith("/"):
            return "write a path starting with /, optionally after methods"
        methods = []
        for name in head.split(","):
            if name == "":
                return "separate methods with commas and no spaces"
            if name.upper() not in HTTP_METHODS:
                return f"unknown method {name!r}"
            if name.upper() != name:
                return "write methods in upper case"
            if name not in methods:
                methods.append(name)
    if re.search(r"[ \t]", path):
        return "the path contains a space"
    if re.search(r"[?#]", path):
        return "patterns match paths only; remove the query or fragment"
    if "\\" in path:
        return "use / to separate segments"
    if "%" in path:
        return "write the path decoded"
    star = path.find("*")
    if star != -1 and star != len(path) - 1:
        return "* may only end a pattern"
    prefix = star != -1
    base = path[:-1] if prefix else path
    if "//" in base:
        return "collapse the repeated slashes"
    if any(segment in (".", "..") for segment in base.split("/")):
        return "remove the . and .. segments"
    return EndpointPattern(tuple(methods) if methods is not None else None, base, prefix)


def parse_endpoint_pattern(line: str) -> EndpointPattern:
    read = _read_pattern(line)
    if isinstance(read, str):
        raise RuleError(f"Invalid endpoint pattern {line!r}: {read}")
    return read


def parse_endpoint_patterns(lines: Sequence[str]) -> list[EndpointPattern]:
    filled = [line for line in lines if _strip(line) != ""]
    if len(filled) > MAX_PATTERNS:
        raise RuleError(f"The scope has {len(filled)} endpoint patterns; the limit is {MAX_PATTERNS}")
    return [parse_endpoint_pattern(line) for line in filled]


_HEX = set("0123456789abcdefABCDEF")


def _decode_component(raw: str) -> str:
    """decodeURIComponent: every %XX decoded, the bytes strict UTF-8; ValueError otherwise."""
    out = bytearray()
    i = 0
    while i < len(raw):
        char = raw[i]
        if char == "%":
            pair = raw[i + 1 : i + 3]
            if len(pair) != 2 or not set(pair) <= _HEX:
                raise ValueError("bad percent-encoding")
            out.append(int(pair, 16))
            i += 3
        else:
            out += char.encode("utf-8", "surrogatepass")
            i += 1
    return out.decode("utf-8")


def normalize_path(raw_path: str) -> Optional[str]:
    """The request path as matched (SPEC 3.5), or None when servers could read it differently
    (see @tessera/rules normalizePath for each refusal's reason)."""
    if not raw_path.startswith("/"):
        return None
    end = re.search(r"[?#]", raw_path)
    segments = (raw_path if end is None else raw_path[: end.start()])[1:].split("/")
    stack: list[str] = []
    segment = ""
    for raw in segments:
        if "\\" in raw:
            return None
        try:
            segment = _decode_component(raw)
        except ValueError:
            return None
        if re.search(r"[\x00-\x1f\x7f/\\]", segment):
            return None
        if re.search(r"%(2e|2f|5c)", segment, re.I):
            return None
        if re.match(r"^\.\.?;", segment):
            return None
        if segment == ".":
            continue
        if segment == "..":
            if not stack or stack[-1] == "":
                return None
            stack.pop()
            continue
        stack.append(segment)
    kept = [part for part in stack if part != ""]
    trailing = len(kept) > 0 and segment in ("", ".", "..")
    return "/" + "/".join(kept) + ("/" if trailing else "")


def matches_endpoint(patterns: Sequence[EndpointPattern], method: str, raw_path: str, case_insensitive: bool = False) -> bool:
    if not patterns:
        return False
    normalised = normalize_path(raw_path)
    if normalised is None:
        return False
    path = normalised.lower() if case_insensitive else normalised
    for pattern in patterns:
        if pattern.methods is not None and not (method in pattern.methods or (method == "HEAD" and "GET" in pattern.methods)):
            continue
        base = pattern.path.lower() if case_insensitive else pattern.path
        if pattern.prefix:
            if path.startswith(base):
                return True
        elif path == base or path.startswith(base if base.endswith("/") else base + "/"):
            return True
    return False


# --- IP allowlists (SPEC 3.6) ---------------------------------------------------------------

MAX_ENTRIES = 100
MAX_ENTRY_LENGTH = 100
_MAPPED_START = 0xFFFF_0000_0000
_MAPPED_END = 0xFFFF_FFFF_FFFF


@dataclass(frozen=True)
class IpRange:
    family: int
    start: int
    end: int
    source: str


def _read_ipv4(text: str) -> int:
    octets = text.split(".")
    if len(octets) != 4 or not all(re.fullmatch(r"[0-9]+", octet) for octet in octets):
        raise RuleError("an IPv4 address is four numbers from 0 to 255 separated by dots")
    if any(len(octet) > 1 and octet.startswith("0") for octet in octets):
        raise RuleError("IPv4 octets must not have leading zeros")
    value = 0
    for octet in octets:
        if int(octet) > 255:
            raise RuleError(f"IPv4 octets are 0 to 255, and {octet} is larger")
        value = (value << 8) | int(octet)
    return value


def _read_groups(parts: list[str], ends_address: bool) -> list[int]:
    groups: list[int] = []
    for index, group in enumerate(parts):
        if ends_address and index == len(parts) - 1 and "." in group:
            v4 = _read_ipv4(group)
            groups += [v4 >> 16, v4 & 0xFFFF]
        elif re.fullmatch(r"[0-9A-Fa-f]{1,4}", group):
            groups.append(int(group, 16))
        else:
            raise RuleError("IPv6 groups are 1 to 4 hexadecimal digits separated by colons")
    return groups


def _read_ipv6(text: str) -> int:
    if "%" in text:
        raise RuleError("zone ids are not allowed")
    if text.startswith("["):
        raise RuleError("remove the brackets around the IPv6 address")
    if ":::" in text:
        raise RuleError("an IPv6 address has at most two colons in a row")
    elided = text.find("::")
    if elided != -1 and text.find("::", elided + 1) != -1:
        raise RuleError('"::" may appear only once in an IPv6 address')
    split = lambda part: [] if part == "" else part.split(":")  # noqa: E731
    head = _read_groups(text.split(":") if elided == -1 else split(text[:elided]), elided == -1)
    tail = _read_groups([] if elided == -1 else split(text[elided + 2 :]), True)
    written = len(head) + len(tail)
    if (written != 8) if elided == -1 else (written > 7):
        raise RuleError("an IPv6 address has eight groups, or fewer with ::")
    value = 0
    for group in head + [0] * (8 - written) + tail:
        value = (value << 16) | group
    return value


def _read_address(text: str) -> tuple[int, int]:
    if len(text) > MAX_ENTRY_LENGTH:
        raise RuleError("it is too long to be an IP address")
    if ":" in text:
        v6 = _read_ipv6(text)
        if _MAPPED_START <= v6 <= _MAPPED_END:
            return 4, v6 - _MAPPED_START
        return 6, v6
    if re.search(r"[A-Za-z]", text):
        raise RuleError("host names are not allowed")
    return 4, _read_ipv4(text)


def parse_ip_address(text: str) -> tuple[int, int]:
    """(family, value) of an address; IPv4-mapped IPv6 as IPv4."""
    return _read_address(text)


def _read_entry(entry: str) -> IpRange:
    if len(entry) > MAX_ENTRY_LENGTH:
        raise RuleError("it is too long")
    source = _strip(entry)
    if source == "":
        raise RuleError("it is empty")
    if source == "*":
        raise RuleError("to allow every address, leave the list empty")
    if re.search(r"[,;]", source):
        raise RuleError("write one address, CIDR block or range per entry")
    dashes = len(re.findall(r"[-\u2013]", source))
    if dashes > 1:
        raise RuleError("a range has one dash between two addresses")
    if dashes == 1:
        dash = re.search(r"[-\u2013]", source).start()  # type: ignore[union-attr]
        left = re.sub(r"[ \t]+$", "", source[:dash])
        right = re.sub(r"^[ \t]+", "", source[dash + 1 :])
        if "/" in left or "/" in right:
            raise RuleError("a range joins two addresses, not CIDR blocks")
        if left == "" or right == "":
            raise RuleError("a range needs an address on each side of the dash")
        if re.search(r"\s", left) or re.search(r"\s", right):
            raise RuleError("spaces are allowed only around the dash of a range")
        start, end = _read_address(left), _read_address(right)
        if start[0] != end[0]:
            raise RuleError("a range's ends must be of one family")
        if start[1] > end[1]:
            raise RuleError("the range starts after it ends")
        return IpRange(start[0], start[1], end[1], source)
    if re.search(r"\s", source):
        raise RuleError("spaces are allowed only around the dash of a range")
    if "/" in source:
        address_text, length_text = source.split("/", 1)
        v6 = ":" in address_text
        bits = 128 if v6 else 32
        if not re.fullmatch(r"0|[1-9][0-9]{0,2}", length_text) or int(length_text) > bits:
            raise RuleError(f"the prefix length after / is a whole number from 0 to {bits}")
        start = _read_ipv6(address_text) if v6 else _read_ipv4(address_text)
        host_mask = (1 << (bits - int(length_text))) - 1
        if start & host_mask:
            raise RuleError("the address has bits set beyond the prefix")
        end = start | host_mask
        if v6 and start >= _MAPPED_START and end <= _MAPPED_END:
            return IpRange(4, start - _MAPPED_START, end - _MAPPED_START, source)
        return IpRange(6 if v6 else 4, start, end, source)
    family, value = _read_address(source)
    return IpRange(family, value, value, source)


def parse_ip_entry(entry: str) -> IpRange:
    try:
        return _read_entry(entry)
    except RuleError as error:
        raise RuleError(f"Invalid IP entry {entry!r}: {error}") from None


def parse_ip_allowlist(entries: Sequence[str]) -> list[IpRange]:
    if len(entries) > MAX_ENTRIES:
        raise RuleError(f"The IP allowlist has {len(entries)} entries; the limit is {MAX_ENTRIES}")
    return [parse_ip_entry(entry) for entry in entries]


def _in_ranges(ranges: Sequence[IpRange], address: tuple[int, int]) -> bool:
    return any(r.family == address[0] and r.start <= address[1] <= r.end for r in ranges)


def is_ip_allowed(ranges: Sequence[IpRange], address: str) -> bool:
    """Whether the address is on the list; an empty list allows every address."""
    if not ranges:
        return True
    try:
        return _in_ranges(ranges, _read_address(address))
    except RuleError:
        return False


def _format(address: tuple[int, int]) -> str:
    family, value = address
    if family == 4:
        return ".".join(str((value >> shift) & 0xFF) for shift in (24, 16, 8, 0))
    groups = [(value >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    # RFC 5952 §4.2: "::" replaces the longest run of two or more zero groups, the first if tied.
    best_start, best_length, i = -1, 1, 0
    while i < 8:
        j = i
        while j < 8 and groups[j] == 0:
            j += 1
        if j - i > best_length:
            best_start, best_length = i, j - i
        i = i + 1 if j == i else j
    hexes = [format(group, "x") for group in groups]
    if best_start == -1:
        return ":".join(hexes)
    return ":".join(hexes[:best_start]) + "::" + ":".join(hexes[best_start + best_length :])


def resolve_client_address(peer: str, forwarded_for: Optional[str], trusted_proxies: Sequence[IpRange]) -> str:
    """The socket peer, or behind a trusted proxy the right-most untrusted X-Forwarded-For hop
    (SPEC 3.6); a hop that is not a bare address stops the walk at the last good one."""
    zone = peer.find("%") if ":" in peer else -1
    try:
        peer_address = _read_address(peer if zone == -1 else peer[:zone])
    except RuleError:
        return peer
    client = _format(peer_address)
    if not _in_ranges(trusted_proxies, peer_address) or forwarded_for is None or forwarded_for.strip() == "":
        return client
    for hop in reversed(forwarded_for.split(",")):
        try:
            address = _read_address(hop.strip())
        except RuleError:
            return client
        client = _format(address)
        if not _in_ranges(trusted_proxies, address):
            return client
    return client


# --- the API token string (SPEC 3.2) ---------------------------------------------------------

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TOKEN = re.compile(r"([a-z][a-z0-9]{1,15})_([0-9A-Za-z]{12})\.([0-9A-Za-z]{32})([0-9A-Za-z]{6})")


def _checksum(ascii_text: str) -> str:
    value = zlib.crc32(ascii_text.encode("ascii"))
    digits = ""
    for _ in range(6):
        digits = _BASE62[value % 62] + digits
        value //= 62
    return digits


def is_api_token(text: str, prefix: str) -> bool:
    """Whether text is a well-formed API token of this prefix (checksum included): a direct token."""
    if len(text) > 200:
        return False
    match = _TOKEN.fullmatch(text)
    return bool(match) and match.group(1) == prefix and _checksum(text[:-6]) == match.group(4)


# --- relative expiry input (SPEC 3.4) --------------------------------------------------------

_DAY = 86_400
_UNIT_SECONDS = {"Y": 365 * _DAY, "M": 30 * _DAY, "w": 7 * _DAY, "W": 7 * _DAY, "d": _DAY, "D": _DAY, "h": 3600, "H": 3600, "m": 60, "s": 1, "S": 1}
_MAX_RELATIVE_SECONDS = 1000 * 365 * _DAY


def parse_relative_expiry(text: str) -> int:
    """Seconds a relative expiry such as 180D means (SPEC 3.4); RuleError otherwise."""
    if re.fullmatch(r"[1-9][0-9]*[YMwWdDhHmsS]", text, re.ASCII) and len(text) <= 16:
        seconds = int(text[:-1]) * _UNIT_SECONDS[text[-1]]
        if seconds <= _MAX_RELATIVE_SECONDS:
            return seconds
    raise RuleError(f"Invalid duration {text!r}: use a whole positive number followed by a unit (Y, M, w, d, h, m, s), e.g. 180D")
