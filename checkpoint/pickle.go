package checkpoint

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The values a pickle builds. Nothing here has behaviour: a class instance is an *object holding
// its class name and the state BUILD gave it, never a Go value of a registered type.
type (
	// global is a reference to a module-level name (GLOBAL, STACK_GLOBAL, INST).
	global struct{ module, name string }
	// tuple is an immutable sequence.
	tuple []any
	// list is a mutable sequence; pointer identity matters because the memo shares it.
	list struct{ items []any }
	// set is a set or frozenset; duplicates are not removed since nothing reads sets by value.
	set struct{ items []any }
	// bytesVal is a Python bytes or bytearray.
	bytesVal []byte
	// dict is an insertion-ordered dict (dict and collections.OrderedDict alike).
	dict struct {
		keys, vals []any
		// index maps scalar keys to positions once the dict outgrows a linear scan; other
		// keys are kept but never deduplicated.
		index map[any]int
	}
	// object is an instance of a class that was never run: its class, the arguments NEWOBJ gave,
	// and whatever BUILD, SETITEM(S) and APPEND(S) stored in it.
	object struct {
		class *global
		attrs *dict // __dict__ from BUILD
		state any   // a BUILD state that was not a dict
		items *dict // SETITEM(S) on an instance of a dict subclass
		elems []any // APPEND(S) on an instance of a list subclass
	}
	// opaque is what an allowed call returns when its value is never needed (torch.device(...)).
	opaque struct{ fn *global }
)

func (g *global) String() string { return g.module + "." + g.name }

func newDict() *dict { return &dict{} }

// smallDict is the size up to which a dict is searched linearly: most dicts in a checkpoint
// (hooks, a layer's parameters) are tiny, and a map each would dominate the reading time.
const smallDict = 8

// dictKey maps a Python key to a comparable Go value, so lookups behave like Python's for the
// scalars state dicts use. ok is false for keys we keep but do not index.
func dictKey(k any) (key any, ok bool) {
	switch k := k.(type) {
	case string:
		return k, true
	case int64:
		return k, true
	case bool: // True == 1 in Python
		if k {
			return int64(1), true
		}
		return int64(0), true
	case nil:
		return struct{}{}, true
	}
	return nil, false
}

func (d *dict) find(key any) int {
	if d.index != nil {
		if i, ok := d.index[key]; ok {
			return i
		}
		return -1
	}
	for i, k := range d.keys {
		if dk, ok := dictKey(k); ok && dk == key {
			return i
		}
	}
	return -1
}

func (d *dict) set(k, v any) {
	key, ok := dictKey(k)
	if ok {
		if i := d.find(key); i >= 0 {
			d.vals[i] = v
			return
		}
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	switch {
	case d.index != nil && ok:
		d.index[key] = len(d.keys) - 1
	case d.index == nil && len(d.keys) > smallDict:
		d.index = make(map[any]int, 2*len(d.keys))
		for i, k := range d.keys {
			if key, ok := dictKey(k); ok {
				d.index[key] = i
			}
		}
	}
}

func (d *dict) get(k string) (any, bool) {
	i := d.find(k)
	if i < 0 {
		return nil, false
	}
	return d.vals[i], true
}

// resolver gives a pickle its meaning: the unpickler handles structure, the resolver decides what
// persistent ids, calls and instantiations produce, and refuses what it does not allow.
type resolver interface {
	persistent(pid any) (any, error)
	call(fn any, args tuple) (any, error)
	instantiate(cls any, args tuple) (any, error)
}

// source is a byte stream with a known end, so no read allocates more than the input still holds.
type source struct {
	r        *bufio.Reader
	pos, end int64
}

func newSource(r io.Reader, size int64) *source {
	return &source{r: bufio.NewReaderSize(r, 64<<10), end: size}
}

func (s *source) readErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("truncated at byte %d", s.pos)
	}
	return err
}

func (s *source) byte() (byte, error) {
	if s.pos >= s.end {
		return 0, fmt.Errorf("truncated at byte %d", s.pos)
	}
	b, err := s.r.ReadByte()
	if err != nil {
		return 0, s.readErr(err)
	}
	s.pos++
	return b, nil
}

// bytes reads n bytes, refusing before allocating when the input cannot hold them.
func (s *source) bytes(n int64) ([]byte, error) {
	if n < 0 || n > s.end-s.pos {
		return nil, fmt.Errorf("truncated: needs %d bytes at byte %d, has %d", n, s.pos, s.end-s.pos)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.r, b); err != nil {
		return nil, s.readErr(err)
	}
	s.pos += n
	return b, nil
}

// uint reads an n-byte little-endian unsigned integer, n <= 8.
func (s *source) uint(n int) (uint64, error) {
	var v uint64
	for i := 0; i < n; i++ {
		b, err := s.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(b) << (8 * i)
	}
	return v, nil
}

// line reads up to and excluding the next newline (text opcodes of protocols 0 and 1).
func (s *source) line() (string, error) {
	var sb strings.Builder
	for {
		b, err := s.byte()
		if err != nil {
			return "", err
		}
		if b == '\n' {
			return sb.String(), nil
		}
		sb.WriteByte(b)
	}
}

// MaxPickleMemory bounds the memory, in bytes, that the values of one pickle may take, whatever
// its size; below it a pickle may take PickleBytesPerByte bytes per byte of input (plus 1 MiB).
// Pickles of whole modules, dense in small objects, take about 30 bytes per byte; the seed's
// legacy checkpoints, whose storages follow the pickle, far less.
const (
	MaxPickleMemory    = 256 << 20
	PickleBytesPerByte = 64
)

// Estimated costs, in bytes, of what the stack machine allocates, charged against the budget.
// They round up Go's sizes: a value boxed in an interface, a memo entry, an empty container and
// one entry of a container. The stack and mark arrays are charged as they grow.
const (
	costValue     = 16
	costMemo      = 64
	costContainer = 64
	costEntry     = 32
	costCall      = 128
)

// unpickler runs one pickle up to its STOP. It is a plain stack machine: MARK is kept as a stack
// position, and nothing below the innermost mark can be popped, as in CPython.
type unpickler struct {
	src   *source
	res   resolver
	stack []any
	marks []int
	memo  map[int64]any
	op    int64 // offset of the current opcode, for errors
	// copies bounds the entries BUILD copies into instance dicts, which a pickle could otherwise
	// repeat through the memo to grow memory quadratically in its length.
	copies int64
	// mem is what the values built may still take (see MaxPickleMemory); err is the first
	// charge beyond it, reported after the opcode that made it.
	mem int64
	err error
}

// unpickle reads one pickle from src, leaving src just past its STOP opcode.
func unpickle(src *source, res resolver) (any, error) {
	left := src.end - src.pos
	u := &unpickler{src: src, res: res, memo: map[int64]any{}, copies: 4*left + 1024, mem: pickleBudget(left)}
	v, err := u.run()
	if err != nil {
		return nil, fmt.Errorf("pickle: %w", err)
	}
	return v, nil
}

// pickleBudget is the memory the values of a pickle of size bytes may take.
func pickleBudget(size int64) int64 {
	if size >= (MaxPickleMemory-1<<20)/PickleBytesPerByte {
		return MaxPickleMemory
	}
	return PickleBytesPerByte*size + 1<<20
}

// charge counts n bytes of values against the memory budget.
func (u *unpickler) charge(n int64) {
	u.mem -= n
	if u.mem < 0 && u.err == nil {
		u.err = fmt.Errorf("values at byte %d take more memory than a pickle of its size may (%d bytes per byte, at most %d MiB)",
			u.op, PickleBytesPerByte, MaxPickleMemory>>20)
	}
}

func (u *unpickler) floor() int {
	if len(u.marks) == 0 {
		return 0
	}
	return u.marks[len(u.marks)-1]
}

func (u *unpickler) push(v any) {
	u.charge(costValue)
	u.stack = grow2(u, u.stack, 16)
	u.stack = append(u.stack, v)
}

// grow2 doubles a full slice's capacity, charging the new array of elements of size bytes, so
// that what a growing stack allocates in all stays within twice its final size (append grows
// large slices by a quarter, allocating five times).
func grow2[T any](u *unpickler, s []T, size int64) []T {
	if len(s) < cap(s) {
		return s
	}
	n := max(64, 2*cap(s))
	u.charge(size * int64(n))
	return append(make([]T, 0, n), s...)
}

func (u *unpickler) pop() (any, error) {
	if len(u.stack) <= u.floor() {
		return nil, fmt.Errorf("stack underflow at byte %d", u.op)
	}
	v := u.stack[len(u.stack)-1]
	u.stack[len(u.stack)-1] = nil
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
}

// pop2 pops the top two values, the lower one first.
func (u *unpickler) pop2() (any, any, error) {
	b, err := u.pop()
	if err != nil {
		return nil, nil, err
	}
	a, err := u.pop()
	if err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

func (u *unpickler) top() (any, error) {
	if len(u.stack) <= u.floor() {
		return nil, fmt.Errorf("stack underflow at byte %d", u.op)
	}
	return u.stack[len(u.stack)-1], nil
}

// popMark removes and returns the items above the innermost mark.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, fmt.Errorf("no MARK for the opcode at byte %d", u.op)
	}
	k := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	u.charge(costEntry * int64(len(u.stack)-k))
	items := make([]any, len(u.stack)-k)
	copy(items, u.stack[k:])
	clear(u.stack[k:])
	u.stack = u.stack[:k]
	return items, nil
}

func (u *unpickler) popTuple() (tuple, error) {
	v, err := u.pop()
	if err != nil {
		return nil, err
	}
	t, ok := v.(tuple)
	if !ok {
		return nil, fmt.Errorf("expected a tuple of arguments at byte %d, got %s", u.op, kind(v))
	}
	return t, nil
}

func (u *unpickler) memoGet(i int64) error {
	v, ok := u.memo[i]
	if !ok {
		return fmt.Errorf("memo entry %d not defined (byte %d)", i, u.op)
	}
	u.push(v)
	return nil
}

func (u *unpickler) memoPut(i int64) error {
	if i < 0 {
		return fmt.Errorf("negative memo index at byte %d", u.op)
	}
	v, err := u.top()
	if err != nil {
		return err
	}
	if _, ok := u.memo[i]; !ok {
		u.charge(costMemo)
	}
	u.memo[i] = v
	return nil
}

// run executes opcodes up to STOP. Each family of opcodes is one step function; a step reports
// whether it handled the opcode.
func (u *unpickler) run() (any, error) {
	steps := [...]func(byte) (bool, error){u.control, u.number, u.text, u.container, u.fill, u.memoOp, u.global, u.call}
	for {
		u.op = u.src.pos
		op, err := u.src.byte()
		if err != nil {
			return nil, err
		}
		if op == '.' { // STOP
			return u.pop()
		}
		handled := false
		for _, step := range steps {
			if handled, err = step(op); handled || err != nil {
				break
			}
		}
		if err == nil && !handled {
			err = unhandled(op, u.op)
		}
		if err == nil {
			err = u.err
		}
		if err != nil {
			return nil, err
		}
	}
}

// unhandled is the error for an opcode no step knows.
func unhandled(op byte, at int64) error {
	switch op {
	case 0x82, 0x83, 0x84:
		return fmt.Errorf("extension registry opcode 0x%02x at byte %d not supported", op, at)
	case 0x97:
		return fmt.Errorf("out-of-band buffer (NEXT_BUFFER) at byte %d not supported", at)
	}
	return fmt.Errorf("unknown opcode 0x%02x at byte %d", op, at)
}

// control runs the opcodes that manage the stream and the stack.
func (u *unpickler) control(op byte) (bool, error) {
	s := u.src
	switch op {
	case 0x80: // PROTO
		p, err := s.byte()
		if err != nil {
			return true, err
		}
		if p > 5 {
			return true, fmt.Errorf("unsupported pickle protocol %d", p)
		}
	case 0x95: // FRAME: framing is transparent to a streaming reader
		_, err := s.uint(8)
		return true, err
	case '(': // MARK
		u.marks = append(grow2(u, u.marks, 8), len(u.stack))
	case '0': // POP: with nothing above the mark, CPython drops the mark
		if len(u.stack) == u.floor() && len(u.marks) > 0 {
			_, err := u.popMark()
			return true, err
		}
		_, err := u.pop()
		return true, err
	case '1': // POP_MARK
		_, err := u.popMark()
		return true, err
	case '2': // DUP
		v, err := u.top()
		if err != nil {
			return true, err
		}
		u.push(v)
	case 0x98: // READONLY_BUFFER: no effect on a value we never mutate
		_, err := u.top()
		return true, err
	default:
		return false, nil
	}
	return true, nil
}

// number runs the opcodes that push None, booleans, integers and floats.
func (u *unpickler) number(op byte) (bool, error) {
	var v any
	var err error
	switch op {
	case 'N':
	case 0x88:
		v = true
	case 0x89:
		v = false
	case 'I':
		v, err = u.textInt()
	case 'L': // LONG (text)
		v, err = u.textLine("LONG", func(l string) (any, error) { return parseInt(strings.TrimSuffix(l, "L")) })
	case 'J', 'K', 'M': // BININT, BININT1, BININT2
		v, err = u.binInt(op)
	case 0x8a, 0x8b: // LONG1, LONG4
		v, err = u.binLong(op)
	case 'F': // FLOAT (text)
		v, err = u.textLine("FLOAT", func(l string) (any, error) { return strconv.ParseFloat(l, 64) })
	case 'G': // BINFLOAT, big-endian
		var b []byte
		if b, err = u.src.bytes(8); err == nil {
			v = math.Float64frombits(binary.BigEndian.Uint64(b))
		}
	default:
		return false, nil
	}
	if err != nil {
		return true, err
	}
	u.push(v)
	return true, nil
}

// textLine reads a text argument and parses it, naming the opcode if it does not parse.
func (u *unpickler) textLine(what string, parse func(string) (any, error)) (any, error) {
	l, err := u.src.line()
	if err != nil {
		return nil, err
	}
	u.charge(2 * int64(len(l)))
	v, err := parse(l)
	if err != nil {
		return nil, fmt.Errorf("bad %s at byte %d", what, u.op)
	}
	return v, nil
}

// textInt reads INT's argument; "00" and "01" are protocol 0 booleans.
func (u *unpickler) textInt() (any, error) {
	return u.textLine("INT", func(l string) (any, error) {
		switch l {
		case "00":
			return false, nil
		case "01":
			return true, nil
		}
		return parseInt(l)
	})
}

// binInt reads BININT (signed 4 bytes), BININT1 or BININT2 (unsigned 1 or 2 bytes).
func (u *unpickler) binInt(op byte) (any, error) {
	width := 4
	switch op {
	case 'K':
		width = 1
	case 'M':
		width = 2
	}
	v, err := u.src.uint(width)
	if err != nil {
		return nil, err
	}
	if op == 'J' {
		return int64(int32(uint32(v))), nil
	}
	return int64(v), nil
}

// binLong reads LONG1 or LONG4: a length, then a little-endian two's complement integer.
func (u *unpickler) binLong(op byte) (any, error) {
	width := 1
	if op == 0x8b {
		width = 4
	}
	n, err := u.src.uint(width)
	if err != nil {
		return nil, err
	}
	if op == 0x8b && int32(uint32(n)) < 0 {
		return nil, fmt.Errorf("negative LONG4 length at byte %d", u.op)
	}
	b, err := u.src.bytes(int64(n))
	if err != nil {
		return nil, err
	}
	u.charge(2 * int64(n))
	return decodeLong(b), nil
}

// text runs the opcodes that push strings and bytes.
func (u *unpickler) text(op byte) (bool, error) {
	s := u.src
	var n uint64
	var err error
	switch op {
	case 'S': // STRING: a Python-quoted literal
		v, err := u.textLine("STRING", func(l string) (any, error) { return unquote(l) })
		if err == nil {
			u.push(v)
		}
		return true, err
	case 'V': // UNICODE, raw-unicode-escape
		v, err := u.textLine("UNICODE", func(l string) (any, error) { return rawUnicodeUnescape(l) })
		if err == nil {
			u.push(v)
		}
		return true, err
	case 'T', 'X', 'B': // BINSTRING, BINUNICODE, BINBYTES: 4-byte length
		if n, err = s.uint(4); err == nil && op == 'T' && int32(uint32(n)) < 0 {
			err = fmt.Errorf("negative BINSTRING length at byte %d", u.op)
		}
	case 'U', 'C', 0x8c: // SHORT_BINSTRING, SHORT_BINBYTES, SHORT_BINUNICODE: 1-byte length
		n, err = s.uint(1)
	case 0x8d, 0x8e, 0x96: // BINUNICODE8, BINBYTES8, BYTEARRAY8: 8-byte length
		if n, err = s.uint(8); err == nil && n > math.MaxInt64 {
			err = fmt.Errorf("length %d too large at byte %d", n, u.op)
		}
	default:
		return false, nil
	}
	if err != nil {
		return true, err
	}
	return true, u.pushString(op, int64(n))
}

// container runs the opcodes that make tuples, lists, dicts and sets.
func (u *unpickler) container(op byte) (bool, error) {
	switch op {
	case ')':
		u.charge(costEntry)
		u.push(tuple{})
	case 0x85, 0x86, 0x87: // TUPLE1..3
		n := int(op - 0x84)
		if len(u.stack)-u.floor() < n {
			return true, fmt.Errorf("stack underflow at byte %d", u.op)
		}
		u.charge(costEntry * int64(n))
		t := make(tuple, n)
		copy(t, u.stack[len(u.stack)-n:])
		clear(u.stack[len(u.stack)-n:])
		u.stack = u.stack[:len(u.stack)-n]
		u.push(t)
	case ']', '}', 0x8f: // EMPTY_LIST, EMPTY_DICT, EMPTY_SET
		u.charge(costContainer)
		switch op {
		case ']':
			u.push(&list{})
		case '}':
			u.push(newDict())
		default:
			u.push(&set{})
		}
	case 't', 'l', 'd', 0x91: // TUPLE, LIST, DICT, FROZENSET
		items, err := u.popMark()
		if err != nil {
			return true, err
		}
		u.charge(costContainer)
		v, err := u.fromItems(op, items)
		if err != nil {
			return true, err
		}
		u.push(v)
	default:
		return false, nil
	}
	return true, nil
}

// fromItems makes the container of TUPLE, LIST, DICT or FROZENSET from the items above a mark.
func (u *unpickler) fromItems(op byte, items []any) (any, error) {
	switch op {
	case 't':
		return tuple(items), nil
	case 'l':
		return &list{items: items}, nil
	case 0x91:
		return &set{items: items}, nil
	}
	if len(items)%2 != 0 {
		return nil, fmt.Errorf("odd number of items for DICT at byte %d", u.op)
	}
	u.charge(costEntry * int64(len(items)))
	d := newDict()
	for i := 0; i < len(items); i += 2 {
		d.set(items[i], items[i+1])
	}
	return d, nil
}

// fill runs the opcodes that add items to the container on top of the stack.
func (u *unpickler) fill(op byte) (bool, error) {
	var items []any
	var err error
	switch op {
	case 'a', 's': // APPEND, SETITEM
		var k, v any
		if op == 'a' {
			v, err = u.pop()
			items = []any{v}
		} else if k, v, err = u.pop2(); err == nil {
			items = []any{k, v}
		}
	case 'e', 'u', 0x90: // APPENDS, SETITEMS, ADDITEMS
		items, err = u.popMark()
	default:
		return false, nil
	}
	if err != nil {
		return true, err
	}
	switch op {
	case 'a', 'e':
		u.charge(costEntry * int64(len(items)))
		return true, u.appendTo(items)
	case 's', 'u':
		if len(items)%2 != 0 {
			return true, fmt.Errorf("odd number of items for SETITEMS at byte %d", u.op)
		}
		return true, u.setItems(items)
	}
	t, err := u.top()
	if err != nil {
		return true, err
	}
	st, ok := t.(*set)
	if !ok {
		return true, fmt.Errorf("ADDITEMS to a %s at byte %d", kind(t), u.op)
	}
	u.charge(costEntry * int64(len(items)))
	st.items = append(st.items, items...)
	return true, nil
}

// memoOp runs the opcodes that store values in the memo and fetch them.
func (u *unpickler) memoOp(op byte) (bool, error) {
	var i int64
	var err error
	switch op {
	case 'g', 'p': // GET, PUT: a decimal index
		var v any
		what := "GET"
		if op == 'p' {
			what = "PUT"
		}
		v, err = u.textLine(what, func(l string) (any, error) { return strconv.ParseInt(l, 10, 64) })
		i, _ = v.(int64)
	case 'h', 'q': // BINGET, BINPUT
		var n uint64
		n, err = u.src.uint(1)
		i = int64(n)
	case 'j', 'r': // LONG_BINGET, LONG_BINPUT
		var n uint64
		n, err = u.src.uint(4)
		i = int64(n)
	case 0x94: // MEMOIZE
		i = int64(len(u.memo))
	default:
		return false, nil
	}
	if err != nil {
		return true, err
	}
	if op == 'g' || op == 'h' || op == 'j' {
		return true, u.memoGet(i)
	}
	return true, u.memoPut(i)
}

// global runs GLOBAL and STACK_GLOBAL, which name a module-level object without importing it.
func (u *unpickler) global(op byte) (bool, error) {
	switch op {
	case 'c': // GLOBAL
		mod, name, err := u.twoLines()
		if err != nil {
			return true, err
		}
		u.push(&global{module: mod, name: name})
	case 0x93: // STACK_GLOBAL
		mod, name, err := u.pop2()
		if err != nil {
			return true, err
		}
		ms, ok1 := mod.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return true, fmt.Errorf("STACK_GLOBAL needs two strings at byte %d", u.op)
		}
		u.charge(costContainer)
		u.push(&global{module: ms, name: ns})
	default:
		return false, nil
	}
	return true, nil
}

// twoLines reads the module and name arguments of GLOBAL and INST.
func (u *unpickler) twoLines() (string, string, error) {
	mod, err := u.src.line()
	if err != nil {
		return "", "", err
	}
	name, err := u.src.line()
	if err != nil {
		return "", "", err
	}
	u.charge(costContainer + 2*int64(len(mod)+len(name)))
	return mod, name, nil
}

// call runs the opcodes that call or instantiate, and BUILD and persistent ids, all of which
// the resolver gives their meaning.
func (u *unpickler) call(op byte) (bool, error) {
	switch op {
	case 'P': // PERSID
		l, err := u.src.line()
		if err != nil {
			return true, err
		}
		u.charge(2 * int64(len(l)))
		return true, u.persistent(l)
	case 'Q': // BINPERSID
		pid, err := u.pop()
		if err != nil {
			return true, err
		}
		return true, u.persistent(pid)
	case 'R', 'i', 'o', 0x81, 0x92: // REDUCE, INST, OBJ, NEWOBJ, NEWOBJ_EX
		v, err := u.invoke(op)
		if err != nil {
			return true, err
		}
		u.charge(costCall + size(v))
		u.push(v)
	case 'b': // BUILD
		state, err := u.pop()
		if err != nil {
			return true, err
		}
		obj, err := u.top()
		if err != nil {
			return true, err
		}
		return true, u.build(obj, state)
	default:
		return false, nil
	}
	return true, nil
}

// invoke pops the callable and arguments of a call opcode and asks the resolver for its result.
func (u *unpickler) invoke(op byte) (any, error) {
	var fn, v any
	var args tuple
	var err error
	switch op {
	case 'R', 0x81, 0x92:
		if op == 0x92 { // keyword arguments are dropped, nothing reads them
			if _, err := u.pop(); err != nil {
				return nil, err
			}
		}
		if args, err = u.popTuple(); err != nil {
			return nil, err
		}
		if fn, err = u.pop(); err != nil {
			return nil, err
		}
	case 'i': // INST: calls module.name with the items above the mark
		mod, name, err := u.twoLines()
		if err != nil {
			return nil, err
		}
		if args, err = u.popMark(); err != nil {
			return nil, err
		}
		fn = &global{module: mod, name: name}
	case 'o': // OBJ: calls the first item above the mark with the rest
		items, err := u.popMark()
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, fmt.Errorf("OBJ without a class at byte %d", u.op)
		}
		fn, args = items[0], items[1:]
	}
	if op == 0x81 || op == 0x92 {
		v, err = u.res.instantiate(fn, args)
	} else {
		v, err = u.res.call(fn, args)
	}
	if err != nil {
		return nil, fmt.Errorf("%w (%s at byte %d)", err, callName(op), u.op)
	}
	return v, nil
}

func (u *unpickler) pushString(op byte, n int64) error {
	b, err := u.src.bytes(n)
	if err != nil {
		return err
	}
	u.charge(2 * n)
	switch op {
	case 'B', 'C', 0x8e, 0x96:
		u.push(bytesVal(b))
	default:
		// Python 2 str (BINSTRING) is kept as its raw bytes, as torch.load's utf-8 decoding would.
		u.push(string(b))
	}
	return nil
}

func (u *unpickler) persistent(pid any) error {
	v, err := u.res.persistent(pid)
	if err != nil {
		return fmt.Errorf("%w (persistent id at byte %d)", err, u.op)
	}
	u.push(v)
	return nil
}

func (u *unpickler) appendTo(items []any) error {
	t, err := u.top()
	if err != nil {
		return err
	}
	switch t := t.(type) {
	case *list:
		t.items = append(t.items, items...)
	case *object:
		t.elems = append(t.elems, items...)
	default:
		return fmt.Errorf("APPEND to a %s at byte %d", kind(t), u.op)
	}
	return nil
}

func (u *unpickler) setItems(items []any) error {
	t, err := u.top()
	if err != nil {
		return err
	}
	var d *dict
	switch t := t.(type) {
	case *dict:
		d = t
	case *object:
		if t.items == nil {
			t.items = newDict()
		}
		d = t.items
	default:
		return fmt.Errorf("SETITEM on a %s at byte %d", kind(t), u.op)
	}
	before := len(d.keys)
	for i := 0; i+1 < len(items); i += 2 {
		d.set(items[i], items[i+1])
	}
	u.charge(2 * costEntry * int64(len(d.keys)-before))
	return nil
}

// build applies a BUILD state. Only instance dictionaries are kept; other states (an old
// Parameter's (requires_grad, volatile, hooks), an OrderedDict's _metadata, a numpy dtype's byte
// order) are recorded where they matter and otherwise dropped.
func (u *unpickler) build(obj, state any) error {
	switch o := obj.(type) {
	case *object:
		switch s := state.(type) {
		case *dict:
			return u.mergeAttrs(o, s)
		case tuple:
			// (dict, slots) as copyreg produces for classes with __slots__.
			if len(s) == 2 {
				d1, ok1 := s[0].(*dict)
				d2, ok2 := s[1].(*dict)
				if ok1 || ok2 {
					if ok1 {
						if err := u.mergeAttrs(o, d1); err != nil {
							return err
						}
					}
					if ok2 {
						return u.mergeAttrs(o, d2)
					}
					return nil
				}
			}
			o.state = state
		default:
			o.state = state
		}
	case *npDtype:
		if s, ok := state.(tuple); ok && len(s) > 1 {
			if b, ok := s[1].(string); ok && len(b) == 1 {
				o.order = b[0]
			}
		}
	}
	return nil
}

// mergeAttrs copies the string-keyed entries of d into o's attributes.
func (u *unpickler) mergeAttrs(o *object, d *dict) error {
	u.copies -= int64(len(d.keys))
	if u.copies < 0 {
		return fmt.Errorf("BUILD at byte %d copies more state than the pickle's size allows", u.op)
	}
	if o.attrs == nil {
		o.attrs = newDict()
	}
	before := len(o.attrs.keys)
	for i, k := range d.keys {
		if name, ok := k.(string); ok {
			o.attrs.set(name, d.vals[i])
		}
	}
	u.charge(2 * costEntry * int64(len(o.attrs.keys)-before))
	return nil
}

// decodeLong decodes a little-endian two's complement integer (LONG1, LONG4).
func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) <= 8 {
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		shift := uint(64 - 8*len(b))
		return int64(v<<shift) >> shift
	}
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	v := new(big.Int).SetBytes(be)
	if b[len(b)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	if v.IsInt64() {
		return v.Int64()
	}
	return v
}

func parseInt(s string) (any, error) {
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, errors.New("bad integer")
	}
	return v, nil
}

// unquote decodes a protocol 0 STRING argument: a repr() of a Python 2 str.
func unquote(l string) (string, error) {
	if len(l) < 2 || (l[0] != '\'' && l[0] != '"') || l[len(l)-1] != l[0] {
		return "", errors.New("not a quoted string")
	}
	s := l[1 : len(l)-1]
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			sb.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", errors.New("trailing backslash")
		}
		switch c = s[i]; c {
		case '\\', '\'', '"':
			sb.WriteByte(c)
		case 'n':
			sb.WriteByte('\n')
		case 't':
			sb.WriteByte('\t')
		case 'r':
			sb.WriteByte('\r')
		case 'a':
			sb.WriteByte('\a')
		case 'b':
			sb.WriteByte('\b')
		case 'f':
			sb.WriteByte('\f')
		case 'v':
			sb.WriteByte('\v')
		case 'x':
			if i+2 >= len(s) {
				return "", errors.New("short \\x escape")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", errors.New("bad \\x escape")
			}
			sb.WriteByte(byte(v))
			i += 2
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(s[i:j], 8, 16)
			sb.WriteByte(byte(v))
			i = j - 1
		default:
			sb.WriteByte('\\')
			sb.WriteByte(c)
		}
	}
	return sb.String(), nil
}

// rawUnicodeUnescape decodes a protocol 0 UNICODE argument: bytes are Latin-1 code points and
// only \uXXXX and \UXXXXXXXX are escapes.
func rawUnicodeUnescape(l string) (string, error) {
	var sb strings.Builder
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c == '\\' && i+1 < len(l) && (l[i+1] == 'u' || l[i+1] == 'U') {
			n := 4
			if l[i+1] == 'U' {
				n = 8
			}
			if i+2+n > len(l) {
				return "", errors.New("short unicode escape")
			}
			v, err := strconv.ParseUint(l[i+2:i+2+n], 16, 32)
			if err != nil || v > utf8.MaxRune {
				return "", errors.New("bad unicode escape")
			}
			sb.WriteRune(rune(v))
			i += 1 + n
			continue
		}
		sb.WriteRune(rune(c))
	}
	return sb.String(), nil
}

// kind names a value's Python type for error messages.
func kind(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64, *big.Int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case bytesVal:
		return "bytes"
	case tuple:
		return "tuple"
	case *list:
		return "list"
	case *set:
		return "set"
	case *dict:
		return "dict"
	case *global:
		return "global " + clean(v.String())
	case *object:
		return clean(v.class.String()) + " object"
	case *tensorRef:
		return "tensor"
	case *storageRef:
		return "storage"
	case *opaque:
		return clean(v.fn.String()) + " result"
	}
	return fmt.Sprintf("%T", v)
}

// clean makes text taken from a file safe for a one-line error: printable and short.
func clean(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "..."
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			q := strconv.QuoteToASCII(s)
			return q[1 : len(q)-1]
		}
	}
	return s
}

// callName names a call opcode for errors.
func callName(op byte) string {
	switch op {
	case 'R':
		return "REDUCE"
	case 'i':
		return "INST"
	case 'o':
		return "OBJ"
	case 0x81:
		return "NEWOBJ"
	}
	return "NEWOBJ_EX"
}

// size estimates the bytes of the entries a call's result holds beyond its header, for calls
// such as OrderedDict(d) that copy.
func size(v any) int64 {
	n := 0
	switch v := v.(type) {
	case *dict:
		n = 2 * len(v.keys)
	case *list:
		n = len(v.items)
	case *set:
		n = len(v.items)
	case tuple:
		n = len(v)
	case *object:
		n = len(v.elems)
		if v.items != nil {
			n += 2 * len(v.items.keys)
		}
		if v.attrs != nil {
			n += 2 * len(v.attrs.keys)
		}
	}
	return costEntry * int64(n)
}
