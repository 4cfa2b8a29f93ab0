package checkpoint

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"strings"
)

// maxDims bounds a tensor's rank; real tensors have a handful of dimensions.
const maxDims = 64

// rootStorage is one storage of the file, shared by the tensors and views that name its key.
type rootStorage struct {
	key    string
	dtype  dtype // of the first reference; the legacy format counts elements in it
	nbytes int64
	// read returns n bytes from byte offset off of the storage's data, in buf if it has the
	// capacity; the format reader sets it once it knows where the data lies.
	read storageReader
}

// storageReader reads n bytes at offset off of a storage, in buf if its capacity allows.
type storageReader func(buf []byte, off, n int64) ([]byte, error)

// storageRef is what a storage persistent id yields: a typed window on a root storage (the whole
// root unless it is a legacy storage view).
type storageRef struct {
	root   *rootStorage
	dtype  dtype
	offset int64 // bytes into root
	nbytes int64
}

// tensorRef is a tensor awaiting its data: a strided view of a storage.
type tensorRef struct {
	storage       *storageRef
	dtype         dtype
	offset        int64 // in elements of dtype
	size, strides tuple // checked when the tensor is read, so rebuilds allocate little
}

// unsupportedTensor stands for a tensor kind this package does not convert (quantized, sparse,
// meta, numpy-backed); it is an error only if it is one of the tensors asked for.
type unsupportedTensor struct{ how string }

// npDtype is a numpy.dtype built for a numpy scalar, e.g. numpy.dtype('f8').
type npDtype struct {
	code  string // "f8", "i4", "b1", ...
	order byte   // '<', '>', '|' or '=' (from BUILD); '<' assumed until then
}

// env resolves the pickle of a torch checkpoint: it turns storage ids into storages, runs the
// allowlisted torch rebuild functions on values, and refuses every other call.
type env struct {
	roots map[string]*rootStorage
	order []*rootStorage // in order of first reference, for deterministic errors
	// limit caps any single storage and the sum of all storages in bytes: data cannot exceed
	// the file that holds it (zip entries torch writes are stored uncompressed).
	limit, total int64
	// copies bounds the items calls such as OrderedDict(d) copy, which a pickle could repeat
	// through its memo to grow memory quadratically in its length.
	copies int64
}

func newEnv(limit int64) *env {
	return &env{roots: map[string]*rootStorage{}, limit: limit, copies: 4*limit + 1024}
}

// copy charges n copied items to the copy budget.
func (e *env) copy(n int) error {
	e.copies -= int64(n)
	if e.copies < 0 {
		return fmt.Errorf("calls copy more items than the pickle's size allows")
	}
	return nil
}

// plainResolver resolves the header pickles of the legacy format, which hold only plain data.
type plainResolver struct{}

func (plainResolver) persistent(any) (any, error) {
	return nil, fmt.Errorf("unexpected persistent id")
}

func (plainResolver) call(fn any, _ tuple) (any, error) {
	return nil, refuse(fn)
}

func (plainResolver) instantiate(cls any, _ tuple) (any, error) {
	return nil, refuse(cls)
}

func refuse(fn any) error {
	if g, ok := fn.(*global); ok {
		return fmt.Errorf("pickle names unexpected global %s", clean(g.String()))
	}
	return fmt.Errorf("pickle calls a %s", kind(fn))
}

func (e *env) persistent(pid any) (any, error) {
	t, ok := pid.(tuple)
	if !ok || len(t) == 0 {
		return nil, fmt.Errorf("unsupported persistent id of type %s", kind(pid))
	}
	typ, _ := t[0].(string)
	switch typ {
	case "module":
		// Legacy files save module classes as ('module', class, source file, source).
		if len(t) < 2 {
			return nil, fmt.Errorf("short module persistent id")
		}
		return t[1], nil
	case "storage":
		return e.storage(t[1:])
	}
	return nil, fmt.Errorf("unsupported persistent id type %q", clean(typ))
}

// storage resolves (storage_type, key, location, numel[, view_metadata]), the legacy format's
// id with a view, the zip format's without.
func (e *env) storage(t tuple) (any, error) {
	if len(t) != 4 && len(t) != 5 {
		return nil, fmt.Errorf("storage persistent id has %d fields", len(t)+1)
	}
	cls, ok := t[0].(*global)
	if !ok {
		return nil, fmt.Errorf("storage type is a %s", kind(t[0]))
	}
	dt, ok := storageType(cls)
	if !ok {
		return nil, fmt.Errorf("unsupported storage type %s", clean(cls.String()))
	}
	var key string
	switch k := t[1].(type) {
	case string:
		key = k
	case int64:
		key = fmt.Sprint(k)
	default:
		return nil, fmt.Errorf("storage key is a %s", kind(t[1]))
	}
	numel, ok := t[3].(int64)
	if !ok || numel < 0 {
		return nil, fmt.Errorf("storage %q has a bad element count", clean(key))
	}
	if numel > e.limit/int64(dt.size) {
		return nil, fmt.Errorf("truncated or corrupt: storage %q claims %d elements of %s, more than the %d-byte file holds", clean(key), numel, dt.name, e.limit)
	}
	nbytes := numel * int64(dt.size)
	root := e.roots[key]
	if root == nil {
		if nbytes > e.limit-e.total {
			return nil, fmt.Errorf("truncated or corrupt: storages named so far need %d bytes, more than the %d-byte file holds", e.total+nbytes, e.limit)
		}
		e.total += nbytes
		root = &rootStorage{key: key, dtype: dt, nbytes: nbytes}
		e.roots[key] = root
		e.order = append(e.order, root)
	} else if nbytes > root.nbytes {
		return nil, fmt.Errorf("storage %q is named with %d bytes and with %d", clean(key), root.nbytes, nbytes)
	}
	ref := &storageRef{root: root, dtype: dt, nbytes: nbytes}
	if len(t) == 5 && t[4] != nil {
		// Legacy storage view: (view_key, offset, size) in elements.
		v, ok := t[4].(tuple)
		if !ok || len(v) != 3 {
			return nil, fmt.Errorf("storage %q has bad view metadata", clean(key))
		}
		off, ok1 := v[1].(int64)
		size, ok2 := v[2].(int64)
		if !ok1 || !ok2 || off < 0 || size < 0 || off > numel || size > numel-off {
			return nil, fmt.Errorf("storage %q has a view outside its %d elements", clean(key), numel)
		}
		ref.offset = off * int64(dt.size)
		ref.nbytes = size * int64(dt.size)
	}
	return ref, nil
}

func storageType(g *global) (dtype, bool) {
	if g.module != "torch" && g.module != "torch.cuda" {
		return dtype{}, false
	}
	dt, ok := storageTypes[g.name]
	return dt, ok
}

// call runs an allowlisted function on plain values; any other callable is refused by name.
func (e *env) call(fn any, args tuple) (any, error) {
	g, ok := fn.(*global)
	if !ok {
		return nil, refuse(fn)
	}
	if v, ok, err := e.callAllowed(g, args); ok || err != nil {
		return v, err
	}
	if strings.HasPrefix(g.module, "torch.nn.") || g.module == "torch.nn" {
		// Old checkpoints call helpers such as torch.nn.backends.thnn._get_thnn_function_backend;
		// their results are never tensors.
		return &opaque{g}, nil
	}
	return nil, refuse(g)
}

// callAllowed runs a call of the allowlist by its module; ok is false if g is not on it.
func (e *env) callAllowed(g *global, args tuple) (v any, ok bool, err error) {
	switch g.module {
	case "torch._utils":
		return rebuild(g, args)
	case "torch._tensor", "torch.tensor":
		return e.rebuildFromType(g, args)
	case "torch", "torch.cuda":
		return torchCall(g, args)
	case "torch.nn.parameter", "torch.autograd.variable":
		// Before torch 1.0 a Parameter or Variable was pickled as a call of its class on the
		// tensor (and requires_grad); the value is that tensor.
		if g.name == "Parameter" || g.name == "Variable" {
			if len(args) == 0 {
				return &opaque{g}, true, nil
			}
			return args[0], true, nil
		}
	case "collections":
		if g.name == "OrderedDict" {
			v, err := e.newDictFrom(args)
			return v, true, err
		}
	case "builtins", "__builtin__":
		return e.builtin(g, args)
	case "copy_reg", "copyreg":
		if g.name == "_reconstructor" {
			// _reconstructor(cls, base, state) creates a cls instance without running __init__.
			if len(args) != 3 {
				return nil, true, fmt.Errorf("%s takes 3 arguments, got %d", g, len(args))
			}
			v, err := e.instantiate(args[0], nil)
			return v, true, err
		}
	case "numpy", "numpy.core.multiarray", "numpy._core.multiarray":
		return numpyCall(g, args)
	case "_codecs":
		if g.name == "encode" {
			v, err := encode(args)
			return v, true, err
		}
	}
	return nil, false, nil
}

// rebuild runs the torch._utils rebuild functions: tensors from storages, and placeholders for
// the kinds of tensor this package does not convert.
func rebuild(g *global, args tuple) (any, bool, error) {
	var v any
	var err error
	switch g.name {
	case "_rebuild_tensor":
		v, err = rebuildTensor(args, 4, nil)
	case "_rebuild_tensor_v2":
		if len(args) != 6 && len(args) != 7 {
			return nil, true, fmt.Errorf("%s takes 6 or 7 arguments, got %d", g, len(args))
		}
		v, err = rebuildTensor(args[:4], 4, nil)
	case "_rebuild_tensor_v3":
		v, err = rebuildTensorV3(g, args)
	case "_rebuild_parameter", "_rebuild_parameter_with_state":
		if len(args) < 1 {
			return nil, true, fmt.Errorf("%s without arguments", g)
		}
		v = args[0]
	case "_rebuild_qtensor":
		v = &unsupportedTensor{"quantized"}
	case "_rebuild_sparse_tensor", "_rebuild_sparse_csr_tensor":
		v = &unsupportedTensor{"sparse"}
	case "_rebuild_meta_tensor_no_storage":
		v = &unsupportedTensor{"meta (storage-less)"}
	case "_rebuild_device_tensor_from_numpy", "_rebuild_xla_tensor", "_rebuild_device_tensor_from_cpu_tensor":
		v = &unsupportedTensor{"device (numpy-backed)"}
	case "_rebuild_wrapper_subclass", "_rebuild_nested_tensor":
		v = &unsupportedTensor{"wrapper or nested"}
	default:
		return nil, false, nil
	}
	return v, true, err
}

// rebuildTensorV3 is _rebuild_tensor_v2 with the tensor's dtype as its seventh argument.
func rebuildTensorV3(g *global, args tuple) (any, error) {
	if len(args) != 7 && len(args) != 8 {
		return nil, fmt.Errorf("%s takes 7 or 8 arguments, got %d", g, len(args))
	}
	dg, ok := args[6].(*global)
	if !ok || dg.module != "torch" {
		return nil, fmt.Errorf("%s: dtype is a %s", g, kind(args[6]))
	}
	dt, ok := torchDtypes[dg.name]
	if !ok {
		return nil, fmt.Errorf("unsupported dtype %s", clean(dg.String()))
	}
	return rebuildTensor(args[:4], 4, &dt)
}

// rebuildFromType runs torch._tensor._rebuild_from_type(_v2)(func, type, args, state), which
// rebuilds a tensor subclass by func, itself allowed.
func (e *env) rebuildFromType(g *global, args tuple) (any, bool, error) {
	if g.name != "_rebuild_from_type_v2" && g.name != "_rebuild_from_type" {
		return nil, false, nil
	}
	if len(args) != 4 {
		return nil, true, fmt.Errorf("%s takes 4 arguments, got %d", g, len(args))
	}
	inner, ok := args[2].(tuple)
	if !ok {
		return nil, true, fmt.Errorf("%s: arguments are a %s", g, kind(args[2]))
	}
	if ig, ok := args[0].(*global); ok && strings.HasPrefix(ig.name, "_rebuild_from_type") {
		return nil, true, fmt.Errorf("%s nested in itself", g)
	}
	v, err := e.call(args[0], inner)
	return v, true, err
}

// torchCall runs torch.Size, torch.device and the storage classes of torch and torch.cuda.
func torchCall(g *global, args tuple) (any, bool, error) {
	switch {
	case strings.HasSuffix(g.name, "Storage"):
		return &opaque{g}, true, nil
	case g.module != "torch":
	case g.name == "Size":
		if len(args) == 0 {
			return tuple{}, true, nil
		}
		v, err := sequence(args[0])
		return v, true, err
	case g.name == "device":
		return &opaque{g}, true, nil
	}
	return nil, false, nil
}

// builtin runs the builtins dict, list, set, frozenset and object.
func (e *env) builtin(g *global, args tuple) (any, bool, error) {
	switch g.name {
	case "dict":
		v, err := e.newDictFrom(args)
		return v, true, err
	case "list", "set", "frozenset":
		var items []any
		if len(args) > 0 {
			s, err := sequence(args[0])
			if err != nil {
				return nil, true, err
			}
			if err := e.copy(len(s)); err != nil {
				return nil, true, err
			}
			items = append(items, s...)
		}
		if g.name == "list" {
			return &list{items: items}, true, nil
		}
		return &set{items: items}, true, nil
	case "object":
		return &object{class: g}, true, nil
	}
	return nil, false, nil
}

// numpyCall runs numpy.dtype and the numpy.core.multiarray scalar and _reconstruct functions.
func numpyCall(g *global, args tuple) (any, bool, error) {
	switch {
	case g.name == "dtype" && g.module == "numpy" && len(args) > 0:
		code, ok := args[0].(string)
		if !ok {
			return nil, true, fmt.Errorf("numpy.dtype of a %s", kind(args[0]))
		}
		return &npDtype{code: code, order: '<'}, true, nil
	case g.name == "scalar" && g.module != "numpy":
		return numpyScalar(args), true, nil
	case g.name == "_reconstruct" && g.module != "numpy":
		return &opaque{g}, true, nil // a numpy array: never a tensor we name
	}
	return nil, false, nil
}

// deniedModules are modules whose names are never instantiated, even as inert objects: a pickle
// naming them is hostile or broken, and saying so early gives the clearer error.
var deniedModules = map[string]bool{
	"os": true, "posix": true, "nt": true, "subprocess": true, "sys": true, "shutil": true,
	"socket": true, "pty": true, "runpy": true, "importlib": true, "pickle": true, "_pickle": true,
	"cPickle": true, "marshal": true, "code": true, "codeop": true, "commands": true, "ctypes": true,
	"multiprocessing": true, "webbrowser": true, "types": true, "functools": true, "operator": true,
	"builtins": true, "__builtin__": true, "platform": true, "pdb": true, "timeit": true,
}

// instantiate creates an instance of cls without running any of its code (NEWOBJ,
// copyreg._reconstructor): a generic object whose state BUILD will fill.
func (e *env) instantiate(cls any, args tuple) (any, error) {
	g, ok := cls.(*global)
	if !ok {
		return nil, fmt.Errorf("instantiating a %s", kind(cls))
	}
	switch g.String() {
	case "collections.OrderedDict", "builtins.dict", "__builtin__.dict":
		return newDict(), nil
	case "builtins.list", "__builtin__.list":
		return &list{}, nil
	case "builtins.set", "__builtin__.set", "builtins.frozenset", "__builtin__.frozenset":
		return &set{}, nil
	case "builtins.object", "__builtin__.object":
		return &object{class: g}, nil
	case "torch.Size":
		if len(args) == 0 {
			return tuple{}, nil
		}
		return sequence(args[0])
	}
	root, _, _ := strings.Cut(g.module, ".")
	if deniedModules[root] {
		return nil, refuse(g)
	}
	return &object{class: g}, nil
}

func (e *env) newDictFrom(args tuple) (any, error) {
	d := newDict()
	if len(args) == 0 {
		return d, nil
	}
	if src, ok := args[0].(*dict); ok {
		if err := e.copy(len(src.keys)); err != nil {
			return nil, err
		}
		for i, k := range src.keys {
			d.set(k, src.vals[i])
		}
		return d, nil
	}
	items, err := sequence(args[0])
	if err != nil {
		return nil, err
	}
	if err := e.copy(len(items)); err != nil {
		return nil, err
	}
	for _, it := range items {
		pair, err := sequence(it)
		if err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("dict item is not a pair")
		}
		d.set(pair[0], pair[1])
	}
	return d, nil
}

// sequence returns the items of a tuple or list.
func sequence(v any) (tuple, error) {
	switch v := v.(type) {
	case tuple:
		return v, nil
	case *list:
		return tuple(v.items), nil
	}
	return nil, fmt.Errorf("expected a tuple or list, got %s", kind(v))
}

// rebuildTensor handles (storage, storage_offset, size, stride), the arguments common to every
// _rebuild_tensor variant. dt overrides the storage's dtype (v3, untyped storage).
func rebuildTensor(args tuple, n int, dt *dtype) (any, error) {
	if len(args) != n {
		return nil, fmt.Errorf("tensor rebuild takes %d arguments, got %d", n, len(args))
	}
	st, ok := args[0].(*storageRef)
	if !ok {
		return nil, fmt.Errorf("tensor storage is a %s", kind(args[0]))
	}
	off, ok := args[1].(int64)
	if !ok || off < 0 {
		return nil, fmt.Errorf("tensor has a bad storage offset")
	}
	size, err := sequence(args[2])
	if err != nil {
		return nil, fmt.Errorf("tensor size: %w", err)
	}
	stride, err := sequence(args[3])
	if err != nil {
		return nil, fmt.Errorf("tensor stride: %w", err)
	}
	if len(size) != len(stride) {
		return nil, fmt.Errorf("tensor has %d sizes and %d strides", len(size), len(stride))
	}
	t := &tensorRef{storage: st, dtype: st.dtype, offset: off, size: size, strides: stride}
	if dt != nil {
		t.dtype = *dt
	}
	return t, nil
}

// ints reads a shape or stride: a tuple of at most maxDims non-negative integers.
func ints(s tuple) ([]int64, error) {
	if len(s) > maxDims {
		return nil, fmt.Errorf("%d dimensions", len(s))
	}
	out := make([]int64, len(s))
	for i, x := range s {
		n, ok := x.(int64)
		if !ok || n < 0 {
			return nil, fmt.Errorf("%s is not a non-negative integer", kind(x))
		}
		out[i] = n
	}
	return out, nil
}

// dims formats a shape or stride for an error, shortened beyond a few dimensions.
func dims(v []int64) string {
	if len(v) <= 8 {
		return fmt.Sprint(v)
	}
	s := fmt.Sprint(v[:8])
	return s[:len(s)-1] + " ...]"
}

// encode implements _codecs.encode(str, encoding), which protocol 2 pickles from Python 3 use
// for bytes: the str holds one code point per byte.
func encode(args tuple) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("_codecs.encode without arguments")
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("_codecs.encode of a %s", kind(args[0]))
	}
	enc := "utf-8"
	if len(args) > 1 {
		if e, ok := args[1].(string); ok {
			enc = strings.ToLower(e)
		}
	}
	switch enc {
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1":
		b := make([]byte, 0, len(s))
		for _, r := range s {
			if r > 0xff {
				return nil, fmt.Errorf("_codecs.encode: code point %U is not Latin-1", r)
			}
			b = append(b, byte(r))
		}
		return bytesVal(b), nil
	case "utf-8", "utf8":
		return bytesVal(s), nil
	}
	return nil, fmt.Errorf("_codecs.encode: unsupported encoding %q", clean(enc))
}

// numpyScalar decodes numpy.core.multiarray.scalar(dtype, bytes) into an int64, float64 or
// bool; anything else is left opaque.
func numpyScalar(args tuple) any {
	fail := &opaque{&global{"numpy.core.multiarray", "scalar"}}
	if len(args) != 2 {
		return fail
	}
	dt, ok := args[0].(*npDtype)
	if !ok {
		return fail
	}
	var b []byte
	switch v := args[1].(type) {
	case string:
		b = []byte(v)
	case bytesVal:
		b = v
	default:
		return fail
	}
	var order binary.ByteOrder = binary.LittleEndian
	if dt.order == '>' {
		order = binary.BigEndian
	}
	code := strings.TrimLeft(dt.code, "<>|=")
	if len(code) < 2 || len(b) == 0 {
		return fail
	}
	size := int(code[1] - '0')
	if len(code) != 2 || len(b) != size {
		return fail
	}
	var u uint64
	switch size {
	case 1:
		u = uint64(b[0])
	case 2:
		u = uint64(order.Uint16(b))
	case 4:
		u = uint64(order.Uint32(b))
	case 8:
		u = order.Uint64(b)
	default:
		return fail
	}
	switch code[0] {
	case 'f':
		switch size {
		case 2:
			return float64(halfToFloat(uint16(u)))
		case 4:
			return float64(math.Float32frombits(uint32(u)))
		case 8:
			return math.Float64frombits(u)
		}
	case 'i':
		shift := uint(64 - 8*size)
		return int64(u<<shift) >> shift
	case 'u':
		if u > math.MaxInt64 {
			return new(big.Int).SetUint64(u)
		}
		return int64(u)
	case 'b':
		return u != 0
	}
	return fail
}
