package checkpoint

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// maxModuleDepth bounds the module tree walk; real networks nest a few levels.
const maxModuleDepth = 100

// stateDictKeys are the keys under which training scripts commonly keep the weights, tried in
// this order when the top-level object is a dict.
var stateDictKeys = []string{"state_dict", "model_state_dict", "model", "net"}

// named is a tensor with its state-dict name, before its data is read.
type named struct {
	name string
	t    any // *tensorRef or *unsupportedTensor
}

// walker bounds the naming of tensors. A module reachable along many paths is named along each,
// as state_dict() does, so a small pickle could otherwise ask for exponentially many names.
type walker struct {
	entries, nameBytes int64 // what may still be named
	onPath             map[*object]bool
	out                []named
}

// charge counts n steps of the walk and the bytes of a name against the bounds.
func (w *walker) charge(n int, name string) error {
	w.entries -= int64(n)
	w.nameBytes -= int64(len(name))
	if w.entries < 0 || w.nameBytes < 0 {
		return fmt.Errorf("more tensor names than a checkpoint of its size can hold")
	}
	return nil
}

func (w *walker) add(name string, t any) error {
	if err := w.charge(1, name); err != nil {
		return err
	}
	w.out = append(w.out, named{name, t})
	return nil
}

// collect finds the tensors of a checkpoint's top-level object, named as state_dict() would name
// them, and the scalar entries beside them. size is the file's size, which bounds the naming.
func collect(root any, size int64) ([]named, map[string]string, error) {
	w := &walker{entries: 2*size + 16, nameBytes: 16*size + 1<<20, onPath: map[*object]bool{}}
	meta := map[string]string{}
	if m, ok := root.(*object); ok && isModule(m) {
		meta["module"] = m.class.String()
		err := w.module(m, "", 0)
		return w.out, meta, err
	}
	d := dictOf(root)
	if d == nil {
		return nil, nil, fmt.Errorf("top-level object is a %s, not a state dict, module or dict", kind(root))
	}
	for _, k := range stateDictKeys {
		v, ok := d.get(k)
		if !ok {
			continue
		}
		var err error
		if m, ok := v.(*object); ok && isModule(m) {
			meta["module"] = m.class.String()
			err = w.module(m, "", 0)
		} else if sd := dictOf(v); sd != nil {
			err = w.stateDict(sd)
		} else {
			continue
		}
		scalars(d, meta)
		return w.out, meta, err
	}
	if err := w.stateDict(d); err != nil {
		return nil, nil, err
	}
	if len(w.out) == 0 && len(d.keys) > 0 {
		keys := make([]string, 0, len(d.keys))
		for _, k := range d.keys {
			s, _ := k.(string)
			keys = append(keys, strconv.Quote(clean(s)))
			if len(keys) == 8 {
				keys = append(keys, "...")
				break
			}
		}
		return nil, nil, fmt.Errorf("no state dict: top-level dict has no tensors and keys %s", strings.Join(keys, ", "))
	}
	scalars(d, meta)
	return w.out, meta, nil
}

// dictOf returns the dict behind v: a dict, or an instance of a dict subclass.
func dictOf(v any) *dict {
	switch v := v.(type) {
	case *dict:
		return v
	case *object:
		if v.items != nil && !isModule(v) {
			return v.items
		}
	}
	return nil
}

func isModule(o *object) bool {
	if o.attrs == nil {
		return false
	}
	_, p := o.attrs.get("_parameters")
	_, m := o.attrs.get("_modules")
	return p || m
}

// stateDict lists the tensor entries of a state dict in order; other values are skipped.
func (w *walker) stateDict(d *dict) error {
	for i, k := range d.keys {
		switch v := d.vals[i].(type) {
		case *tensorRef, *unsupportedTensor:
			name, ok := k.(string)
			if !ok {
				return fmt.Errorf("state dict key is a %s", kind(k))
			}
			if err := w.add(name, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// module names a module's tensors as nn.Module.state_dict does: its parameters, then its
// persistent buffers, then each child's under "child.", skipping None entries.
func (w *walker) module(m *object, prefix string, depth int) error {
	if depth > maxModuleDepth {
		return fmt.Errorf("module tree deeper than %d at %q", maxModuleDepth, clean(prefix))
	}
	if w.onPath[m] {
		return fmt.Errorf("module %q contains itself", clean(prefix))
	}
	w.onPath[m] = true
	defer delete(w.onPath, m)

	// Every visit charges what it looks at, so modules shared along many paths cannot multiply
	// the work without bound.
	if err := w.charge(1, prefix); err != nil {
		return err
	}
	skip, err := w.nonPersistent(m)
	if err != nil {
		return err
	}
	for _, field := range []string{"_parameters", "_buffers"} {
		if err := w.tensors(m, prefix, field, skip); err != nil {
			return err
		}
	}
	return w.children(m, prefix, depth)
}

// nonPersistent returns the names in a module's _non_persistent_buffers_set.
func (w *walker) nonPersistent(m *object) (map[string]bool, error) {
	skip := map[string]bool{}
	v, ok := m.attrs.get("_non_persistent_buffers_set")
	if !ok {
		return skip, nil
	}
	s, ok := v.(*set)
	if !ok {
		return skip, nil
	}
	if err := w.charge(len(s.items), ""); err != nil {
		return nil, err
	}
	for _, x := range s.items {
		if name, ok := x.(string); ok {
			skip[name] = true
		}
	}
	return skip, nil
}

// tensors names the tensors of a module's _parameters or _buffers dict, skipping None entries
// and, among buffers, the non-persistent ones.
func (w *walker) tensors(m *object, prefix, field string, skip map[string]bool) error {
	v, ok := m.attrs.get(field)
	if !ok || v == nil {
		return nil
	}
	d := dictOf(v)
	if d == nil {
		return fmt.Errorf("module %q: %s is a %s", clean(prefix), field, kind(v))
	}
	if err := w.charge(len(d.keys), ""); err != nil {
		return err
	}
	for i, k := range d.keys {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("module %q: %s key is a %s", clean(prefix), field, kind(k))
		}
		switch t := d.vals[i].(type) {
		case nil:
		case *tensorRef, *unsupportedTensor:
			if field == "_buffers" && skip[name] {
				continue
			}
			if err := w.add(prefix+name, t); err != nil {
				return err
			}
		default:
			return fmt.Errorf("module %q: %s %q is a %s, not a tensor", clean(prefix), field, clean(name), kind(t))
		}
	}
	return nil
}

// children names the tensors of a module's children, under "child.".
func (w *walker) children(m *object, prefix string, depth int) error {
	v, ok := m.attrs.get("_modules")
	if !ok || v == nil {
		return nil
	}
	d := dictOf(v)
	if d == nil {
		return fmt.Errorf("module %q: _modules is a %s", clean(prefix), kind(v))
	}
	if err := w.charge(len(d.keys), ""); err != nil {
		return err
	}
	for i, k := range d.keys {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("module %q: child name is a %s", clean(prefix), kind(k))
		}
		switch c := d.vals[i].(type) {
		case nil:
		case *object:
			if c.attrs == nil {
				continue // a module without state has no tensors
			}
			if err := w.module(c, prefix+name+".", depth+1); err != nil {
				return err
			}
		default:
			return fmt.Errorf("module %q: child %q is a %s", clean(prefix), clean(name), kind(c))
		}
	}
	return nil
}

// scalars records d's string-keyed scalar values in meta.
func scalars(d *dict, meta map[string]string) {
	for i, k := range d.keys {
		name, ok := k.(string)
		if !ok {
			continue
		}
		var s string
		switch v := d.vals[i].(type) {
		case int64:
			s = strconv.FormatInt(v, 10)
		case *big.Int:
			s = v.String()
		case float64:
			s = strconv.FormatFloat(v, 'g', -1, 64)
		case bool:
			s = strconv.FormatBool(v)
		case string:
			s = v
		default:
			continue
		}
		meta[name] = s
	}
}

// budget caps the float32 elements materialised, against tensors that repeat one storage
// through zero strides or many names. It also carries the buffer raw bytes are read into.
type budget struct {
	left    int64
	scratch []byte
}

// finish names and materialises the collected tensors, stripping DataParallel prefixes.
func finish(f *File, entries []named, meta map[string]string, order binary.ByteOrder, b *budget) error {
	f.Tensors = make(map[string]*Tensor, len(entries))
	f.Names = make([]string, 0, len(entries))
	f.Meta = meta
	for _, e := range entries {
		name := e.name
		for strings.HasPrefix(name, "module.") {
			name = name[len("module."):]
		}
		if _, dup := f.Tensors[name]; dup {
			return fmt.Errorf("two tensors named %q (after removing module. prefixes)", clean(name))
		}
		var t *Tensor
		switch r := e.t.(type) {
		case *tensorRef:
			var err error
			if t, err = materialise(r, order, b); err != nil {
				return fmt.Errorf("tensor %q: %w", clean(e.name), err)
			}
		case *unsupportedTensor:
			return fmt.Errorf("tensor %q: %s tensors are not supported", clean(e.name), r.how)
		}
		f.Tensors[name] = t
		f.Names = append(f.Names, name)
	}
	return nil
}

// materialise reads a strided tensor's elements into a new contiguous float32 slice.
func materialise(r *tensorRef, order binary.ByteOrder, b *budget) (*Tensor, error) {
	if decoder(r.dtype, order) == nil {
		return nil, fmt.Errorf("unsupported dtype %s", r.dtype.name)
	}
	size, err := ints(r.size)
	if err != nil {
		return nil, fmt.Errorf("size: %w", err)
	}
	strides, err := ints(r.strides)
	if err != nil {
		return nil, fmt.Errorf("stride: %w", err)
	}
	shape, n, err := shapeOf(size, b)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return &Tensor{Shape: shape, Data: []float32{}}, nil
	}
	raw, err := readElements(r, size, strides, b)
	if err != nil {
		return nil, err
	}
	b.left -= n
	data := make([]float32, n)
	if contiguous(size, strides) {
		decodeContiguous(data, raw, r.dtype, order)
	} else {
		decodeStrided(data, raw, r.dtype, order, size, strides)
	}
	return &Tensor{Shape: shape, Data: data}, nil
}

// shapeOf checks a tensor's dimensions against the budget and returns them with the element
// count. An empty tensor holds no data, but its dimensions still size whatever is built from
// it: its dimensions must fit the file as if the empty ones were 1.
func shapeOf(size []int64, b *budget) ([]int, int64, error) {
	shape := make([]int, len(size))
	n := int64(1)
	for i, s := range size {
		if s > math.MaxInt32 {
			return nil, 0, fmt.Errorf("dimension %d has size %d", i, s)
		}
		shape[i] = int(s)
		if s != 0 && n > math.MaxInt64/s {
			return nil, 0, fmt.Errorf("shape %s overflows", dims(size))
		}
		n *= s
	}
	switch {
	case n == 0 && extent(size) > b.left:
		return nil, 0, fmt.Errorf("shape %s: empty, with dimensions larger than the file can hold", dims(size))
	case n > b.left:
		return nil, 0, fmt.Errorf("shape %s: more elements than the file can hold", dims(size))
	}
	return shape, n, nil
}

// readElements reads the bytes of the storage that a strided view of size and strides spans,
// after checking that they lie in the storage.
func readElements(r *tensorRef, size, strides []int64, b *budget) ([]byte, error) {
	// The last element read, relative to the tensor's offset.
	last := int64(0)
	for i, s := range size {
		st := strides[i]
		if st != 0 && s-1 > (math.MaxInt64-last)/st {
			return nil, fmt.Errorf("strides %s overflow", dims(strides))
		}
		last += (s - 1) * st
	}
	es := int64(r.dtype.size)
	st := r.storage
	avail := st.nbytes / es
	if r.offset > avail || last >= avail-r.offset {
		return nil, fmt.Errorf("shape %s, stride %s at offset %d reach past the %d elements of storage %q", dims(size), dims(strides), r.offset, avail, clean(st.root.key))
	}
	if st.root.read == nil {
		return nil, fmt.Errorf("storage %q has no data in the file", clean(st.root.key))
	}
	raw, err := st.root.read(b.scratch, st.offset+r.offset*es, (last+1)*es)
	if err != nil {
		return nil, err
	}
	if cap(raw) > cap(b.scratch) {
		b.scratch = raw
	}
	return raw, nil
}

// decodeStrided converts the elements of a strided view of raw, in row-major order, into data.
func decodeStrided(data []float32, raw []byte, dt dtype, order binary.ByteOrder, size, strides []int64) {
	dec := decoder(dt, order)
	es := int64(dt.size)
	idx := make([]int64, len(size))
	pos := int64(0)
	for i := range data {
		data[i] = dec(raw[pos*es:])
		// Advance the row-major counter, carrying into earlier dimensions.
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			pos += strides[d]
			if idx[d] < size[d] {
				break
			}
			pos -= idx[d] * strides[d]
			idx[d] = 0
		}
	}
}

// extent is the product of the dimensions with zeros counted as ones, saturating at MaxInt64.
func extent(size []int64) int64 {
	n := int64(1)
	for _, s := range size {
		s = max(s, 1)
		if n > math.MaxInt64/s {
			return math.MaxInt64
		}
		n *= s
	}
	return n
}

// contiguous reports whether stride is row-major for shape; dimensions of size 1 may have any
// stride.
func contiguous(shape, stride []int64) bool {
	want := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] != 1 && stride[i] != want {
			return false
		}
		want *= shape[i]
	}
	return true
}
