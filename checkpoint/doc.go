// Package checkpoint reads PyTorch checkpoints, as they exist in the wild, into named float32
// tensors without executing anything in them.
//
// # Formats
//
// Open and Read detect the format from the content, never the file name:
//
//   - "zip" (torch.save since torch 1.6): a zip archive whose one top folder (any name) holds
//     data.pkl, the pickled object, and data/<key>, the raw bytes of each storage. An optional
//     byteorder record ("little" or "big") sets the storages' byte order.
//   - "legacy" (torch.save before 1.6, or with _use_new_zipfile_serialization=False): pickles of
//     the magic number 0x1950a86a20f9469cfc6c, the protocol version 1001, a sys_info dict (its
//     little_endian sets the byte order), the object, and the list of storage keys; then, for
//     each key in that order, an 8-byte little-endian element count and the elements. Storage
//     views of old torch versions (view_key, offset, size) are honoured. The tar-based format of
//     torch before 0.1.10 is recognised and refused.
//   - "safetensors": an 8-byte little-endian header length, a JSON header mapping names to
//     {dtype, shape, data_offsets} plus an optional "__metadata__" map of strings, then the
//     buffer. Offsets must lie in the buffer, match shape and dtype exactly, and tile the buffer
//     with no overlap and no gap, as the reference implementation requires.
//
// In the pickled formats the object may be a whole nn.Module (its class's code is never needed),
// a state dict (a dict or OrderedDict of tensors), or a dict holding either under "state_dict",
// "model_state_dict", "model" or "net" (tried in that order) beside other entries.
//
// # Tensors and names
//
// Tensors are converted to contiguous row-major float32 from float32, float64, float16,
// bfloat16, int64, int32, int16, int8, uint8 and bool storages (safetensors also uint16, uint32
// and uint64). Integers beyond 2^24 lose precision; bools become 0 and 1. Strided views
// (storage offset, size, stride) are materialised; tensors sharing a storage get separate copies.
// Quantized, sparse, meta and complex tensors are an error when they are among the named tensors.
//
// A state dict's tensors keep its keys in its order; non-tensor values are skipped. A module's
// tensors are named as nn.Module.state_dict names them: each module's non-None parameters, then
// its buffers except those in _non_persistent_buffers_set, then each child's under "child.", so
// the seed's DenseNet gives conv1.weight, block1.layer.0.bn1.running_mean, ..., fc.bias. Every
// leading "module." (nn.DataParallel) is removed from every name; two tensors ending up with the
// same name are an error. Safetensors names are in the order of their data in the buffer.
//
// File.Meta holds the string-keyed scalars (int, float, bool, str, numpy scalars) beside the
// state dict, such as best_prec1 or epoch, formatted by strconv ('g' for floats); the class of a
// pickled module as "module"; and a safetensors file's __metadata__.
//
// # Pickles and globals
//
// Pickles (protocols 0 to 5) run on a small stack machine of this package that builds plain
// values. A class instance is an inert record of its class name and the state BUILD gives it;
// nothing is imported or run. Naming a global (GLOBAL, STACK_GLOBAL) is harmless in itself; what
// matters is what is done with it:
//
//   - Calls (REDUCE, INST, OBJ) are allowed only for: the torch._utils rebuild functions
//     (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
//     _rebuild_parameter_with_state, and the quantized, sparse, meta and device variants, which
//     yield unsupported tensors); torch._tensor._rebuild_from_type(_v2), whose inner function
//     must itself be allowed; torch storage classes, torch.Size, torch.device; anything in
//     torch.nn (torch.nn.parameter.Parameter and torch.autograd.variable.Variable yield their
//     tensor, as old torch pickled them); collections.OrderedDict; builtins (or __builtin__)
//     dict, list, set, frozenset and object; copyreg (copy_reg)._reconstructor; numpy.dtype,
//     numpy.core.multiarray.scalar and _reconstruct (and numpy._core); _codecs.encode. Any other
//     call fails with "pickle names unexpected global <module>.<name>".
//   - Instantiation without a call (NEWOBJ, NEWOBJ_EX, copyreg._reconstructor) of any other class,
//     such as densenet.DenseNet3, yields a generic object, except classes from modules such as
//     os, subprocess, sys, builtins or pickle, which are refused the same way.
//   - Persistent ids are only torch's ('storage', ...) and the legacy format's ('module', ...).
//
// # Memory bounds
//
// Nothing is allocated on a length read from the file before checking that the file can hold
// it: pickle strings against the bytes left; each storage, and all storages together, against the
// file size (so compressed zip entries cannot inflate beyond it); a safetensors header against
// the file and 100 MB. The float32 elements materialised in total are capped at twice the file
// size in bytes, against zero strides or shared storages that would multiply small data. The
// pickle machine's stack, marks and memo grow by at most one entry per opcode read; the items
// that BUILD and calls such as OrderedDict(d) copy are capped at four per byte of input, since the
// memo lets a pickle repeat them; the walk that names tensors charges every key it visits and
// every name byte against the file size (a module shared along many paths is named along each,
// as state_dict() does), is at most 100 modules deep and refuses cycles. Legacy storages and
// stored zip entries are read in place, one tensor at a time, through one reused buffer.
//
// A tensor without elements holds no data but still sizes what is built from it, so its
// dimensions, with the zero ones counted as one, must multiply to no more than the file could
// hold: the 274-byte file declaring fc.weight [2147483647, 0] is refused. The values a pickle
// builds are charged, by estimates that round Go's sizes up (a boxed value 16 bytes, a memo entry
// or empty container 64, a container entry 32, a call's result 128 plus its entries, the stack's
// array as it doubles, strings twice their length), against PickleBytesPerByte (64) bytes per
// byte of the pickle plus 1 MiB, and never more than MaxPickleMemory (256 MiB): beyond that the
// pickle is refused ("values at byte N take more memory than a pickle of its size may"). What
// the unpickler allocates in all, garbage included, then stays within twice that (tested).
//
// # Errors
//
// Every error is one line that starts with "checkpoint <file name>: " and says what is wrong and
// where, e.g. "checkpoint densenet10.pth: truncated: storage "50025760" needs 96 bytes at offset
// 3287635, file has 3287730". No input makes the package panic; text from the file is quoted
// and shortened before it appears in a message.
package checkpoint
