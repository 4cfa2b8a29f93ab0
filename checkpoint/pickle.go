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
}

// unpickle reads one pickle from src, leaving src just past its STOP opcode.
func unpickle(src *source, res resolver) (any, error) {
	u := &unpickler{src: src, res: res, memo: map[int64]any{}, copies: 4*(src.end-src.pos) + 1024}
	v, err := u.run()
	if err != nil {
		return nil, fmt.Errorf("pickle: %w", err)
	}
	return v, nil
}

func (u *unpickler) floor() int {
	if len(u.marks) == 0 {
		return 0
	}
	return u.marks[len(u.marks)-1]
}

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	if len(u.stack) <= u.floor() {
		return nil, fmt.Errorf("stack underflow at byte %d", u.op)
	}
	v := u.stack[len(u.stack)-1]
	u.stack[len(u.stack)-1] = nil
	u.stack = u.stack[:len(u.stack)-1]
	return v, nil
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
	u.memo[i] = v
	return nil
}

func (u *unpickler) run() (any, error) {
	s := u.src
	for {
		u.op = s.pos
		op, err := s.byte()
		if err != nil {
			return nil, err
		}
		switch op {
		case '.': // STOP
			return u.pop()
		case 0x80: // PROTO
			p, err := s.byte()
			if err != nil {
				return nil, err
			}
			if p > 5 {
				return nil, fmt.Errorf("unsupported pickle protocol %d", p)
			}
		case 0x95: // FRAME: framing is transparent to a streaming reader
			if _, err := s.uint(8); err != nil {
				return nil, err
			}
		case '(': // MARK
			u.marks = append(u.marks, len(u.stack))
		case '0': // POP: with nothing above the mark, CPython drops the mark
			if len(u.stack) == u.floor() && len(u.marks) > 0 {
				if _, err := u.popMark(); err != nil {
					return nil, err
				}
			} else if _, err := u.pop(); err != nil {
				return nil, err
			}
		case '1': // POP_MARK
			if _, err := u.popMark(); err != nil {
				return nil, err
			}
		case '2': // DUP
			v, err := u.top()
			if err != nil {
				return nil, err
			}
			u.push(v)

		case 'N':
			u.push(nil)
		case 0x88:
			u.push(true)
		case 0x89:
			u.push(false)
		case 'I': // INT (text); "00" and "01" are protocol 0 booleans
			l, err := s.line()
			if err != nil {
				return nil, err
			}
			switch l {
			case "00":
				u.push(false)
			case "01":
				u.push(true)
			default:
				v, err := parseInt(l)
				if err != nil {
					return nil, fmt.Errorf("bad INT at byte %d", u.op)
				}
				u.push(v)
			}
		case 'L': // LONG (text)
			l, err := s.line()
			if err != nil {
				return nil, err
			}
			v, err := parseInt(strings.TrimSuffix(l, "L"))
			if err != nil {
				return nil, fmt.Errorf("bad LONG at byte %d", u.op)
			}
			u.push(v)
		case 'J': // BININT
			v, err := s.uint(4)
			if err != nil {
				return nil, err
			}
			u.push(int64(int32(uint32(v))))
		case 'K': // BININT1
			v, err := s.uint(1)
			if err != nil {
				return nil, err
			}
			u.push(int64(v))
		case 'M': // BININT2
			v, err := s.uint(2)
			if err != nil {
				return nil, err
			}
			u.push(int64(v))
		case 0x8a, 0x8b: // LONG1, LONG4
			width := 1
			if op == 0x8b {
				width = 4
			}
			n, err := s.uint(width)
			if err != nil {
				return nil, err
			}
			if op == 0x8b && int32(uint32(n)) < 0 {
				return nil, fmt.Errorf("negative LONG4 length at byte %d", u.op)
			}
			b, err := s.bytes(int64(n))
			if err != nil {
				return nil, err
			}
			u.push(decodeLong(b))
		case 'F': // FLOAT (text)
			l, err := s.line()
			if err != nil {
				return nil, err
			}
			v, err := strconv.ParseFloat(l, 64)
			if err != nil {
				return nil, fmt.Errorf("bad FLOAT at byte %d", u.op)
			}
			u.push(v)
		case 'G': // BINFLOAT, big-endian
			b, err := s.bytes(8)
			if err != nil {
				return nil, err
			}
			u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))

		case 'S': // STRING: a Python-quoted literal
			l, err := s.line()
			if err != nil {
				return nil, err
			}
			v, err := unquote(l)
			if err != nil {
				return nil, fmt.Errorf("bad STRING at byte %d: %v", u.op, err)
			}
			u.push(v)
		case 'V': // UNICODE, raw-unicode-escape
			l, err := s.line()
			if err != nil {
				return nil, err
			}
			v, err := rawUnicodeUnescape(l)
			if err != nil {
				return nil, fmt.Errorf("bad UNICODE at byte %d: %v", u.op, err)
			}
			u.push(v)
		case 'T', 'X', 'B': // BINSTRING, BINUNICODE, BINBYTES: 4-byte length
			n, err := s.uint(4)
			if err != nil {
				return nil, err
			}
			if op == 'T' && int32(uint32(n)) < 0 {
				return nil, fmt.Errorf("negative BINSTRING length at byte %d", u.op)
			}
			if err := u.pushString(op, int64(n)); err != nil {
				return nil, err
			}
		case 'U', 'C', 0x8c: // SHORT_BINSTRING, SHORT_BINBYTES, SHORT_BINUNICODE: 1-byte length
			n, err := s.uint(1)
			if err != nil {
				return nil, err
			}
			if err := u.pushString(op, int64(n)); err != nil {
				return nil, err
			}
		case 0x8d, 0x8e, 0x96: // BINUNICODE8, BINBYTES8, BYTEARRAY8: 8-byte length
			n, err := s.uint(8)
			if err != nil {
				return nil, err
			}
			if n > math.MaxInt64 {
				return nil, fmt.Errorf("length %d too large at byte %d", n, u.op)
			}
			if err := u.pushString(op, int64(n)); err != nil {
				return nil, err
			}

		case ')':
			u.push(tuple{})
		case 0x85, 0x86, 0x87: // TUPLE1..3
			n := int(op - 0x84)
			if len(u.stack)-u.floor() < n {
				return nil, fmt.Errorf("stack underflow at byte %d", u.op)
			}
			t := make(tuple, n)
			copy(t, u.stack[len(u.stack)-n:])
			clear(u.stack[len(u.stack)-n:])
			u.stack = u.stack[:len(u.stack)-n]
			u.push(t)
		case 't': // TUPLE
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			u.push(tuple(items))
		case ']':
			u.push(&list{})
		case 'l': // LIST
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			u.push(&list{items: items})
		case '}':
			u.push(newDict())
		case 'd': // DICT
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			if len(items)%2 != 0 {
				return nil, fmt.Errorf("odd number of items for DICT at byte %d", u.op)
			}
			d := newDict()
			for i := 0; i < len(items); i += 2 {
				d.set(items[i], items[i+1])
			}
			u.push(d)
		case 0x8f: // EMPTY_SET
			u.push(&set{})
		case 0x91: // FROZENSET
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			u.push(&set{items: items})

		case 'a': // APPEND
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			if err := u.appendTo([]any{v}); err != nil {
				return nil, err
			}
		case 'e': // APPENDS
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			if err := u.appendTo(items); err != nil {
				return nil, err
			}
		case 's': // SETITEM
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			k, err := u.pop()
			if err != nil {
				return nil, err
			}
			if err := u.setItems([]any{k, v}); err != nil {
				return nil, err
			}
		case 'u': // SETITEMS
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			if len(items)%2 != 0 {
				return nil, fmt.Errorf("odd number of items for SETITEMS at byte %d", u.op)
			}
			if err := u.setItems(items); err != nil {
				return nil, err
			}
		case 0x90: // ADDITEMS
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			t, err := u.top()
			if err != nil {
				return nil, err
			}
			st, ok := t.(*set)
			if !ok {
				return nil, fmt.Errorf("ADDITEMS to a %s at byte %d", kind(t), u.op)
			}
			st.items = append(st.items, items...)

		case 'g': // GET
			l, err := s.line()
			if err != nil {
				return nil, err
			}
			i, err := strconv.ParseInt(l, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bad GET at byte %d", u.op)
			}
			if err := u.memoGet(i); err != nil {
				return nil, err
			}
		case 'h', 'j': // BINGET, LONG_BINGET
			width := 1
			if op == 'j' {
				width = 4
			}
			i, err := s.uint(width)
			if err != nil {
				return nil, err
			}
			if err := u.memoGet(int64(i)); err != nil {
				return nil, err
			}
		case 'p': // PUT
			l, err := s.line()
			if err != nil {
				return nil, err
			}
			i, err := strconv.ParseInt(l, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bad PUT at byte %d", u.op)
			}
			if err := u.memoPut(i); err != nil {
				return nil, err
			}
		case 'q', 'r': // BINPUT, LONG_BINPUT
			width := 1
			if op == 'r' {
				width = 4
			}
			i, err := s.uint(width)
			if err != nil {
				return nil, err
			}
			if err := u.memoPut(int64(i)); err != nil {
				return nil, err
			}
		case 0x94: // MEMOIZE
			if err := u.memoPut(int64(len(u.memo))); err != nil {
				return nil, err
			}

		case 'c': // GLOBAL
			mod, err := s.line()
			if err != nil {
				return nil, err
			}
			name, err := s.line()
			if err != nil {
				return nil, err
			}
			u.push(&global{module: mod, name: name})
		case 0x93: // STACK_GLOBAL
			name, err := u.pop()
			if err != nil {
				return nil, err
			}
			mod, err := u.pop()
			if err != nil {
				return nil, err
			}
			ms, ok1 := mod.(string)
			ns, ok2 := name.(string)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("STACK_GLOBAL needs two strings at byte %d", u.op)
			}
			u.push(&global{module: ms, name: ns})
		case 'P': // PERSID
			l, err := s.line()
			if err != nil {
				return nil, err
			}
			if err := u.persistent(l); err != nil {
				return nil, err
			}
		case 'Q': // BINPERSID
			pid, err := u.pop()
			if err != nil {
				return nil, err
			}
			if err := u.persistent(pid); err != nil {
				return nil, err
			}
		case 'R': // REDUCE: a call
			args, err := u.popTuple()
			if err != nil {
				return nil, err
			}
			fn, err := u.pop()
			if err != nil {
				return nil, err
			}
			v, err := u.res.call(fn, args)
			if err != nil {
				return nil, fmt.Errorf("%w (REDUCE at byte %d)", err, u.op)
			}
			u.push(v)
		case 'i': // INST: calls module.name with the items above the mark
			mod, err := s.line()
			if err != nil {
				return nil, err
			}
			name, err := s.line()
			if err != nil {
				return nil, err
			}
			args, err := u.popMark()
			if err != nil {
				return nil, err
			}
			v, err := u.res.call(&global{module: mod, name: name}, args)
			if err != nil {
				return nil, fmt.Errorf("%w (INST at byte %d)", err, u.op)
			}
			u.push(v)
		case 'o': // OBJ: calls the first item above the mark with the rest
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			if len(items) == 0 {
				return nil, fmt.Errorf("OBJ without a class at byte %d", u.op)
			}
			v, err := u.res.call(items[0], items[1:])
			if err != nil {
				return nil, fmt.Errorf("%w (OBJ at byte %d)", err, u.op)
			}
			u.push(v)
		case 0x81: // NEWOBJ
			args, err := u.popTuple()
			if err != nil {
				return nil, err
			}
			cls, err := u.pop()
			if err != nil {
				return nil, err
			}
			v, err := u.res.instantiate(cls, args)
			if err != nil {
				return nil, fmt.Errorf("%w (NEWOBJ at byte %d)", err, u.op)
			}
			u.push(v)
		case 0x92: // NEWOBJ_EX: keyword arguments are dropped, nothing reads them
			if _, err := u.pop(); err != nil {
				return nil, err
			}
			args, err := u.popTuple()
			if err != nil {
				return nil, err
			}
			cls, err := u.pop()
			if err != nil {
				return nil, err
			}
			v, err := u.res.instantiate(cls, args)
			if err != nil {
				return nil, fmt.Errorf("%w (NEWOBJ_EX at byte %d)", err, u.op)
			}
			u.push(v)
		case 'b': // BUILD
			state, err := u.pop()
			if err != nil {
				return nil, err
			}
			obj, err := u.top()
			if err != nil {
				return nil, err
			}
			if err := u.build(obj, state); err != nil {
				return nil, err
			}
		case 0x82, 0x83, 0x84:
			return nil, fmt.Errorf("extension registry opcode 0x%02x at byte %d not supported", op, u.op)
		case 0x97:
			return nil, fmt.Errorf("out-of-band buffer (NEXT_BUFFER) at byte %d not supported", u.op)
		case 0x98: // READONLY_BUFFER: no effect on a value we never mutate
			if _, err := u.top(); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unknown opcode 0x%02x at byte %d", op, u.op)
		}
	}
}

func (u *unpickler) pushString(op byte, n int64) error {
	b, err := u.src.bytes(n)
	if err != nil {
		return err
	}
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
	for i := 0; i+1 < len(items); i += 2 {
		d.set(items[i], items[i+1])
	}
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
	for i, k := range d.keys {
		if name, ok := k.(string); ok {
			o.attrs.set(name, d.vals[i])
		}
	}
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
