package verify

// Tessera's rules (SPEC 3.5 endpoint scopes, 3.6 IP allowlists, 3.2 token format, 3.4 relative
// expiry), ported from @tessera/rules so every language gives the same answer. The shared
// vectors and the conformance corpus (sdks/corpus) prove it.

import (
	"errors"
	"fmt"
	"hash/crc32"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// RuleError is an endpoint pattern, IP allowlist entry or expiry that does not parse.
type RuleError struct{ Message string }

func (e *RuleError) Error() string { return e.Message }

func ruleError(format string, args ...any) error { return &RuleError{fmt.Sprintf(format, args...)} }

// ---- endpoint scopes (SPEC 3.5) ---------------------------------------------------------------

var httpMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

const (
	maxPatternLength = 1024
	maxPatterns      = 100
)

// EndpointPattern is one pattern of a custom scope: `[METHODS ]PATH[*]`.
type EndpointPattern struct {
	Methods []string // nil: every method
	Path    string
	Prefix  bool
}

var (
	edgeSpace    = regexp.MustCompile(`^[ \t]+|[ \t]+$`)
	controlChars = regexp.MustCompile("[\x00-\x08\x0a-\x1f\x7f]")
	methodSplit  = regexp.MustCompile(`^([^ \t]+)[ \t]+((?s).*)$`)
)

func strip(text string) string { return edgeSpace.ReplaceAllString(text, "") }

func contains(list []string, value string) bool {
	for _, item := range list {
		if item == value {
			return true
		}
	}
	return false
}

func readPattern(line string) (EndpointPattern, string) {
	if len([]rune(line)) > maxPatternLength {
		return EndpointPattern{}, "it is too long"
	}
	text := strip(line)
	if text == "" {
		return EndpointPattern{}, "it is empty; write a path such as /plans"
	}
	if controlChars.MatchString(text) {
		return EndpointPattern{}, "it contains a line break or control character"
	}
	var methods []string
	path := text
	if !strings.HasPrefix(text, "/") {
		split := methodSplit.FindStringSubmatch(text)
		if split == nil {
			return EndpointPattern{}, "a path starts with /"
		}
		head := split[1]
		path = split[2]
		if !strings.HasPrefix(path, "/") {
			return EndpointPattern{}, "write a path starting with /, optionally after methods"
		}
		methods = []string{}
		for _, name := range strings.Split(head, ",") {
			if name == "" {
				return EndpointPattern{}, "separate methods with commas and no spaces"
			}
			if !contains(httpMethods, strings.ToUpper(name)) {
				return EndpointPattern{}, "unknown method " + strconv.Quote(name)
			}
			if strings.ToUpper(name) != name {
				return EndpointPattern{}, "write methods in upper case"
			}
			if !contains(methods, name) {
				methods = append(methods, name)
			}
		}
	}
	switch {
	case strings.ContainsAny(path, " \t"):
		return EndpointPattern{}, "the path contains a space"
	case strings.ContainsAny(path, "?#"):
		return EndpointPattern{}, "patterns match paths only; remove the query or fragment"
	case strings.Contains(path, `\`):
		return EndpointPattern{}, "use / to separate segments"
	case strings.Contains(path, "%"):
		return EndpointPattern{}, "write the path decoded"
	}
	star := strings.Index(path, "*")
	if star != -1 && star != len(path)-1 {
		return EndpointPattern{}, "* may only end a pattern"
	}
	prefix := star != -1
	base := path
	if prefix {
		base = path[:len(path)-1]
	}
	if strings.Contains(base, "//") {
		return EndpointPattern{}, "collapse the repeated slashes"
	}
	for _, segment := range strings.Split(base, "/") {
		if segment == "." || segment == ".." {
			return EndpointPattern{}, "remove the . and .. segments"
		}
	}
	return EndpointPattern{Methods: methods, Path: base, Prefix: prefix}, ""
}

// ParseEndpointPattern parses one pattern, e.g. `GET,POST /clients`.
func ParseEndpointPattern(line string) (EndpointPattern, error) {
	pattern, problem := readPattern(line)
	if problem != "" {
		return EndpointPattern{}, ruleError("invalid endpoint pattern %q: %s", line, problem)
	}
	return pattern, nil
}

// ParseEndpointPatterns parses a scope's patterns; blank lines are ignored; at most 100.
func ParseEndpointPatterns(lines []string) ([]EndpointPattern, error) {
	var filled []string
	for _, line := range lines {
		if strip(line) != "" {
			filled = append(filled, line)
		}
	}
	if len(filled) > maxPatterns {
		return nil, ruleError("the scope has %d endpoint patterns; the limit is %d", len(filled), maxPatterns)
	}
	patterns := make([]EndpointPattern, 0, len(filled))
	for _, line := range filled {
		pattern, err := ParseEndpointPattern(line)
		if err != nil {
			return nil, err
		}
		patterns = append(patterns, pattern)
	}
	return patterns, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeComponent is decodeURIComponent: every %XX decoded, the result strict UTF-8.
func decodeComponent(raw string) (string, bool) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] != '%' {
			out = append(out, raw[i])
			continue
		}
		if i+2 >= len(raw) {
			return "", false
		}
		high, ok1 := unhex(raw[i+1])
		low, ok2 := unhex(raw[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		out = append(out, high<<4|low)
		i += 2
	}
	if !utf8.Valid(out) {
		return "", false
	}
	return string(out), true
}

var (
	badDecoded   = regexp.MustCompile(`[\x00-\x1f\x7f/\\]`)
	stillEncoded = regexp.MustCompile(`(?i)%(2e|2f|5c)`)
	dotSemicolon = regexp.MustCompile(`^\.\.?;`)
)

// NormalizePath returns the path as matched (SPEC 3.5), or ok=false when servers could read it
// differently (see @tessera/rules normalizePath for the reason behind each refusal).
func NormalizePath(rawPath string) (string, bool) {
	if !strings.HasPrefix(rawPath, "/") {
		return "", false
	}
	path := rawPath
	if end := strings.IndexAny(path, "?#"); end != -1 {
		path = path[:end]
	}
	var stack []string
	segment := ""
	for _, raw := range strings.Split(path[1:], "/") {
		if strings.Contains(raw, `\`) {
			return "", false
		}
		decoded, ok := decodeComponent(raw)
		if !ok {
			return "", false
		}
		segment = decoded
		if badDecoded.MatchString(segment) || stillEncoded.MatchString(segment) || dotSemicolon.MatchString(segment) {
			return "", false
		}
		if segment == "." {
			continue
		}
		if segment == ".." {
			if len(stack) == 0 || stack[len(stack)-1] == "" {
				return "", false
			}
			stack = stack[:len(stack)-1]
			continue
		}
		stack = append(stack, segment)
	}
	var kept []string
	for _, part := range stack {
		if part != "" {
			kept = append(kept, part)
		}
	}
	trailing := len(kept) > 0 && (segment == "" || segment == "." || segment == "..")
	result := "/" + strings.Join(kept, "/")
	if trailing {
		result += "/"
	}
	return result, true
}

// MatchesEndpoint reports whether the method and raw path are within the patterns.
func MatchesEndpoint(patterns []EndpointPattern, method, rawPath string, caseInsensitive bool) bool {
	if len(patterns) == 0 {
		return false
	}
	path, ok := NormalizePath(rawPath)
	if !ok {
		return false
	}
	if caseInsensitive {
		path = strings.ToLower(path)
	}
	for _, pattern := range patterns {
		if pattern.Methods != nil && !contains(pattern.Methods, method) && !(method == "HEAD" && contains(pattern.Methods, "GET")) {
			continue
		}
		base := pattern.Path
		if caseInsensitive {
			base = strings.ToLower(base)
		}
		if pattern.Prefix {
			if strings.HasPrefix(path, base) {
				return true
			}
			continue
		}
		below := base
		if !strings.HasSuffix(below, "/") {
			below += "/"
		}
		if path == base || strings.HasPrefix(path, below) {
			return true
		}
	}
	return false
}

// ---- IP allowlists (SPEC 3.6) -----------------------------------------------------------------

const (
	maxEntries     = 100
	maxEntryLength = 100
)

type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }
func (a u128) and(b u128) u128  { return u128{a.hi & b.hi, a.lo & b.lo} }
func (a u128) or(b u128) u128   { return u128{a.hi | b.hi, a.lo | b.lo} }
func (a u128) isZero() bool     { return a.hi == 0 && a.lo == 0 }

// hostMask is the low (bits - length) bits set.
func hostMask(bits, length int) u128 {
	n := bits - length
	switch {
	case n == 0:
		return u128{}
	case n < 64:
		return u128{0, 1<<uint(n) - 1}
	case n == 64:
		return u128{0, ^uint64(0)}
	case n < 128:
		return u128{1<<uint(n-64) - 1, ^uint64(0)}
	}
	return u128{^uint64(0), ^uint64(0)}
}

// Mapped IPv4 (RFC 4291 §2.5.5.2): ::ffff:0:0/96, matched as IPv4 (SPEC 3.6).
var mappedStart, mappedEnd = u128{0, 0xffff_0000_0000}, u128{0, 0xffff_ffff_ffff}

type address struct {
	family int
	value  u128
}

// IPRange is one allowlist entry: an inclusive range of one family.
type IPRange struct {
	Family     int
	start, end u128
	Source     string
}

var (
	digits      = regexp.MustCompile(`^[0-9]+$`)
	hexGroup    = regexp.MustCompile(`^[0-9A-Fa-f]{1,4}$`)
	letters     = regexp.MustCompile(`[A-Za-z]`)
	prefixLen   = regexp.MustCompile(`^(0|[1-9][0-9]{0,2})$`)
	whitespace  = regexp.MustCompile(`\s`)
	dash        = regexp.MustCompile(`[-–]`)
	listJoiners = regexp.MustCompile(`[,;]`)
)

func readIPv4(text string) (uint64, error) {
	octets := strings.Split(text, ".")
	if len(octets) != 4 {
		return 0, ruleError("an IPv4 address is four numbers from 0 to 255 separated by dots")
	}
	for _, octet := range octets {
		if !digits.MatchString(octet) {
			return 0, ruleError("an IPv4 address is four numbers from 0 to 255 separated by dots")
		}
	}
	for _, octet := range octets {
		if len(octet) > 1 && octet[0] == '0' {
			return 0, ruleError("IPv4 octets must not have leading zeros")
		}
	}
	var value uint64
	for _, octet := range octets {
		n, err := strconv.Atoi(octet)
		if err != nil || n > 255 {
			return 0, ruleError("IPv4 octets are 0 to 255, and %s is larger", octet)
		}
		value = value<<8 | uint64(n)
	}
	return value, nil
}

func readGroups(parts []string, endsAddress bool) ([]uint64, error) {
	var groups []uint64
	for index, group := range parts {
		if endsAddress && index == len(parts)-1 && strings.Contains(group, ".") {
			v4, err := readIPv4(group)
			if err != nil {
				return nil, err
			}
			groups = append(groups, v4>>16, v4&0xffff)
		} else if hexGroup.MatchString(group) {
			n, _ := strconv.ParseUint(group, 16, 16)
			groups = append(groups, n)
		} else {
			return nil, ruleError("IPv6 groups are 1 to 4 hexadecimal digits separated by colons")
		}
	}
	return groups, nil
}

func readIPv6(text string) (u128, error) {
	if strings.Contains(text, "%") {
		return u128{}, ruleError("zone ids are not allowed")
	}
	if strings.HasPrefix(text, "[") {
		return u128{}, ruleError("remove the brackets around the IPv6 address")
	}
	if strings.Contains(text, ":::") {
		return u128{}, ruleError("an IPv6 address has at most two colons in a row")
	}
	elided := strings.Index(text, "::")
	if elided != -1 && strings.Contains(text[elided+1:], "::") {
		return u128{}, ruleError(`"::" may appear only once in an IPv6 address`)
	}
	split := func(part string) []string {
		if part == "" {
			return nil
		}
		return strings.Split(part, ":")
	}
	var headParts, tailParts []string
	if elided == -1 {
		headParts = strings.Split(text, ":")
	} else {
		headParts, tailParts = split(text[:elided]), split(text[elided+2:])
	}
	head, err := readGroups(headParts, elided == -1)
	if err != nil {
		return u128{}, err
	}
	tail, err := readGroups(tailParts, true)
	if err != nil {
		return u128{}, err
	}
	written := len(head) + len(tail)
	if (elided == -1 && written != 8) || (elided != -1 && written > 7) {
		return u128{}, ruleError("an IPv6 address has eight groups, or fewer with ::")
	}
	all := append(append(append([]uint64{}, head...), make([]uint64, 8-written)...), tail...)
	var value u128
	for i, group := range all {
		if i < 4 {
			value.hi = value.hi<<16 | group
		} else {
			value.lo = value.lo<<16 | group
		}
	}
	return value, nil
}

func readAddress(text string) (address, error) {
	if len([]rune(text)) > maxEntryLength {
		return address{}, ruleError("it is too long to be an IP address")
	}
	if strings.Contains(text, ":") {
		v6, err := readIPv6(text)
		if err != nil {
			return address{}, err
		}
		if !v6.less(mappedStart) && !mappedEnd.less(v6) {
			return address{4, u128{0, v6.lo - mappedStart.lo}}, nil
		}
		return address{6, v6}, nil
	}
	if letters.MatchString(text) {
		return address{}, ruleError("host names are not allowed")
	}
	v4, err := readIPv4(text)
	return address{4, u128{0, v4}}, err
}

func readEntry(entry string) (IPRange, error) {
	if len([]rune(entry)) > maxEntryLength {
		return IPRange{}, ruleError("it is too long")
	}
	source := strip(entry)
	switch {
	case source == "":
		return IPRange{}, ruleError("it is empty")
	case source == "*":
		return IPRange{}, ruleError("to allow every address, leave the list empty")
	case listJoiners.MatchString(source):
		return IPRange{}, ruleError("write one address, CIDR block or range per entry")
	}
	dashes := dash.FindAllStringIndex(source, -1)
	if len(dashes) > 1 {
		return IPRange{}, ruleError("a range has one dash between two addresses")
	}
	if len(dashes) == 1 {
		left := strings.TrimRight(source[:dashes[0][0]], " \t")
		right := strings.TrimLeft(source[dashes[0][1]:], " \t")
		if strings.Contains(left, "/") || strings.Contains(right, "/") {
			return IPRange{}, ruleError("a range joins two addresses, not CIDR blocks")
		}
		if left == "" || right == "" {
			return IPRange{}, ruleError("a range needs an address on each side of the dash")
		}
		if whitespace.MatchString(left) || whitespace.MatchString(right) {
			return IPRange{}, ruleError("spaces are allowed only around the dash of a range")
		}
		start, err := readAddress(left)
		if err != nil {
			return IPRange{}, err
		}
		end, err := readAddress(right)
		if err != nil {
			return IPRange{}, err
		}
		if start.family != end.family {
			return IPRange{}, ruleError("a range's ends must be of one family")
		}
		if end.value.less(start.value) {
			return IPRange{}, ruleError("the range starts after it ends")
		}
		return IPRange{start.family, start.value, end.value, source}, nil
	}
	if whitespace.MatchString(source) {
		return IPRange{}, ruleError("spaces are allowed only around the dash of a range")
	}
	if slash := strings.Index(source, "/"); slash != -1 {
		addressText, lengthText := source[:slash], source[slash+1:]
		v6 := strings.Contains(addressText, ":")
		bits := 32
		if v6 {
			bits = 128
		}
		length, _ := strconv.Atoi(lengthText)
		if !prefixLen.MatchString(lengthText) || length > bits {
			return IPRange{}, ruleError("the prefix length after / is a whole number from 0 to %d", bits)
		}
		var start u128
		if v6 {
			value, err := readIPv6(addressText)
			if err != nil {
				return IPRange{}, err
			}
			start = value
		} else {
			value, err := readIPv4(addressText)
			if err != nil {
				return IPRange{}, err
			}
			start = u128{0, value}
		}
		mask := hostMask(bits, length)
		if !start.and(mask).isZero() {
			return IPRange{}, ruleError("the address has bits set beyond the prefix")
		}
		end := start.or(mask)
		if v6 && !start.less(mappedStart) && !mappedEnd.less(end) {
			return IPRange{4, u128{0, start.lo - mappedStart.lo}, u128{0, end.lo - mappedStart.lo}, source}, nil
		}
		family := 4
		if v6 {
			family = 6
		}
		return IPRange{family, start, end, source}, nil
	}
	parsed, err := readAddress(source)
	if err != nil {
		return IPRange{}, err
	}
	return IPRange{parsed.family, parsed.value, parsed.value, source}, nil
}

// ParseIPEntry parses one allowlist entry: an address, a CIDR block or a range.
func ParseIPEntry(entry string) (IPRange, error) {
	parsed, err := readEntry(entry)
	if err != nil {
		return IPRange{}, ruleError("invalid IP entry %q: %s", entry, err.Error())
	}
	return parsed, nil
}

// ParseIPAllowlist parses at most 100 entries.
func ParseIPAllowlist(entries []string) ([]IPRange, error) {
	if len(entries) > maxEntries {
		return nil, ruleError("the IP allowlist has %d entries; the limit is %d", len(entries), maxEntries)
	}
	ranges := make([]IPRange, 0, len(entries))
	for _, entry := range entries {
		parsed, err := ParseIPEntry(entry)
		if err != nil {
			return nil, err
		}
		ranges = append(ranges, parsed)
	}
	return ranges, nil
}

func inRanges(ranges []IPRange, a address) bool {
	for _, r := range ranges {
		if r.Family == a.family && !a.value.less(r.start) && !r.end.less(a.value) {
			return true
		}
	}
	return false
}

// IsIPAllowed reports whether the address is on the list; an empty list allows every address.
func IsIPAllowed(ranges []IPRange, text string) bool {
	if len(ranges) == 0 {
		return true
	}
	a, err := readAddress(text)
	return err == nil && inRanges(ranges, a)
}

func formatAddress(a address) string {
	if a.family == 4 {
		v := a.value.lo
		return fmt.Sprintf("%d.%d.%d.%d", v>>24&0xff, v>>16&0xff, v>>8&0xff, v&0xff)
	}
	groups := make([]uint64, 8)
	for i := 0; i < 4; i++ {
		groups[i] = a.value.hi >> uint(48-16*i) & 0xffff
		groups[i+4] = a.value.lo >> uint(48-16*i) & 0xffff
	}
	// RFC 5952 §4.2: "::" replaces the longest run of two or more zero groups, the first if tied.
	bestStart, bestLength := -1, 1
	for i := 0; i < 8; {
		j := i
		for j < 8 && groups[j] == 0 {
			j++
		}
		if j-i > bestLength {
			bestStart, bestLength = i, j-i
		}
		if j == i {
			i++
		} else {
			i = j
		}
	}
	hexes := make([]string, 8)
	for i, group := range groups {
		hexes[i] = strconv.FormatUint(group, 16)
	}
	if bestStart == -1 {
		return strings.Join(hexes, ":")
	}
	return strings.Join(hexes[:bestStart], ":") + "::" + strings.Join(hexes[bestStart+bestLength:], ":")
}

// ResolveClientAddress is the socket peer or, behind a trusted proxy, the right-most untrusted
// X-Forwarded-For hop (SPEC 3.6); a hop that is not a bare address stops the walk.
func ResolveClientAddress(peer string, forwardedFor *string, trusted []IPRange) string {
	bare := peer
	if strings.Contains(peer, ":") {
		if zone := strings.Index(peer, "%"); zone != -1 {
			bare = peer[:zone]
		}
	}
	peerAddress, err := readAddress(bare)
	if err != nil {
		return peer
	}
	client := formatAddress(peerAddress)
	if !inRanges(trusted, peerAddress) || forwardedFor == nil || strings.TrimSpace(*forwardedFor) == "" {
		return client
	}
	hops := strings.Split(*forwardedFor, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := readAddress(strings.TrimSpace(hops[i]))
		if err != nil {
			return client
		}
		client = formatAddress(hop)
		if !inRanges(trusted, hop) {
			return client
		}
	}
	return client
}

// ---- the API token string (SPEC 3.2) and relative expiry (SPEC 3.4) ----------------------------

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

var tokenShape = regexp.MustCompile(`^([a-z][a-z0-9]{1,15})_([0-9A-Za-z]{12})\.([0-9A-Za-z]{32})([0-9A-Za-z]{6})$`)

func checksum(text string) string {
	value := crc32.ChecksumIEEE([]byte(text))
	out := make([]byte, 6)
	for i := 5; i >= 0; i-- {
		out[i] = base62[value%62]
		value /= 62
	}
	return string(out)
}

// IsAPIToken reports whether text is a well-formed API token of this prefix (a direct token).
func IsAPIToken(text, prefix string) bool {
	if len(text) > 200 {
		return false
	}
	parts := tokenShape.FindStringSubmatch(text)
	return parts != nil && parts[1] == prefix && checksum(text[:len(text)-6]) == parts[4]
}

var relativeExpiry = regexp.MustCompile(`^[1-9][0-9]*[YMwWdDhHmsS]$`)

// ParseRelativeExpiry returns the seconds a relative expiry such as 180D means.
func ParseRelativeExpiry(text string) (int64, error) {
	const day = 86400
	units := map[byte]int64{'Y': 365 * day, 'M': 30 * day, 'w': 7 * day, 'W': 7 * day, 'd': day, 'D': day, 'h': 3600, 'H': 3600, 'm': 60, 's': 1, 'S': 1}
	if relativeExpiry.MatchString(text) && len(text) <= 16 {
		n, err := strconv.ParseInt(text[:len(text)-1], 10, 64)
		if err == nil {
			seconds := n * units[text[len(text)-1]]
			if seconds/units[text[len(text)-1]] == n && seconds <= 1000*365*day {
				return seconds, nil
			}
		}
	}
	return 0, ruleError("invalid duration %q: use a whole positive number followed by a unit (Y, M, w, d, h, m, s), e.g. 180D", text)
}

// IsRuleError reports whether err is a RuleError.
func IsRuleError(err error) bool {
	var rule *RuleError
	return errors.As(err, &rule)
}
