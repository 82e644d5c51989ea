package dianoia

/*
#include <stdlib.h>
#include <dianoia.h>
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"unsafe"
)

// Model is a loaded model (GGUF file or Hugging Face folder). Immutable: share it between goroutines.
type Model struct {
	h *C.dianoia_model
}

// ModelOptions are dianoia_model_params; the zero value is the library's defaults.
type ModelOptions struct {
	ContextLength  uint32 // 0: the file's
	VocabOnly      bool   // tokenizer and chat template only
	MaxMemoryBytes uint64 // 0: the machine's available memory
}

// Load loads a model. A missing or broken file is an *Error with the library's message.
func Load(path string, opts ...ModelOptions) (*Model, error) {
	var p C.dianoia_model_params
	C.dianoia_model_params_init(&p, C.size_t(unsafe.Sizeof(p)))
	if len(opts) > 0 {
		p.context_length = C.uint32_t(opts[0].ContextLength)
		p.vocab_only = C.bool(opts[0].VocabOnly)
		p.max_memory_bytes = C.uint64_t(opts[0].MaxMemoryBytes)
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var h *C.dianoia_model
	if err := call(func() C.dianoia_status { return C.dianoia_model_load(cpath, &p, &h) }); err != nil {
		return nil, err
	}
	m := &Model{h: h}
	runtime.SetFinalizer(m, (*Model).Close)
	return m, nil
}

// Close frees the model; its sessions must be closed first. Safe to call twice.
func (m *Model) Close() {
	if m.h != nil {
		C.dianoia_model_free(m.h)
		m.h = nil
		runtime.SetFinalizer(m, nil)
	}
}

// Info is dianoia_model_info.
type Info struct {
	Architecture, Name, Format, TensorTypes, TokenizerKind, ReasoningFamily string
	NParams                                                                 uint64
	NVocab, NLayers, NEmbd, ContextLength, ContextLengthTrain               uint32
	HasChatTemplate                                                         bool
	BOS, EOS                                                                int32
}

func (m *Model) Info() (Info, error) {
	var i C.dianoia_model_info
	i.struct_size = C.size_t(unsafe.Sizeof(i))
	if err := call(func() C.dianoia_status { return C.dianoia_model_get_info(m.h, &i) }); err != nil {
		return Info{}, err
	}
	return Info{C.GoString(i.architecture), C.GoString(i.name), C.GoString(i.format), C.GoString(i.tensor_types),
		C.GoString(i.tokenizer_kind), C.GoString(i.reasoning_family), uint64(i.n_params), uint32(i.n_vocab),
		uint32(i.n_layers), uint32(i.n_embd), uint32(i.context_length), uint32(i.context_length_train),
		bool(i.has_chat_template), int32(i.bos_token), int32(i.eos_token)}, nil
}

// ApplyGenerationDefaults overwrites the sampling fields of opt (Temperature, TopP, TopK, MinP) with the
// defaults the model ships in generation_config.json, where it has them (a GGUF has none: opt is
// unchanged).
func (m *Model) ApplyGenerationDefaults(opt *GenerateOptions) error {
	var cs cStrings
	defer cs.free()
	p, err := opt.c(&cs)
	if err != nil {
		return err
	}
	if err := call(func() C.dianoia_status { return C.dianoia_model_apply_generation_defaults(m.h, p) }); err != nil {
		return err
	}
	opt.Temperature, opt.TopP, opt.TopK, opt.MinP = float32(p.temperature), float32(p.top_p), int32(p.top_k), float32(p.min_p)
	return nil
}

// fill runs a size-query call twice when the first buffer was too small.
func fill[T any](guess int, f func(buf *T, capacity C.size_t, need *C.size_t) C.dianoia_status) ([]T, error) {
	var zero T
	size := C.size_t(unsafe.Sizeof(zero))
	for attempt := 0; ; attempt++ {
		if guess < 1 {
			guess = 1
		}
		mem := C.calloc(C.size_t(guess), size)
		var need C.size_t
		runtime.LockOSThread()
		st := f((*T)(mem), C.size_t(guess), &need)
		var err error
		if st != C.DIANOIA_OK && !(st == C.DIANOIA_ERR_BUFFER_TOO_SMALL && attempt == 0) {
			err = statusError(st, lastError())
		}
		runtime.UnlockOSThread()
		if err != nil {
			C.free(mem)
			return nil, err
		}
		if st == C.DIANOIA_ERR_BUFFER_TOO_SMALL {
			C.free(mem)
			guess = int(need)
			continue
		}
		out := make([]T, int(need))
		copy(out, unsafe.Slice((*T)(mem), int(need)))
		C.free(mem)
		return out, nil
	}
}

// Tokenize returns the ids of text. addSpecial adds BOS/EOS as the vocabulary asks; parseSpecial turns
// special-token text into those tokens.
func (m *Model) Tokenize(text string, addSpecial, parseSpecial bool) ([]int32, error) {
	ct := C.CString(text)
	defer C.free(unsafe.Pointer(ct))
	ids, err := fill(len(text)+2, func(b *C.int32_t, c C.size_t, n *C.size_t) C.dianoia_status {
		return C.dianoia_tokenize(m.h, ct, C.size_t(len(text)), C.bool(addSpecial), C.bool(parseSpecial), b, c, n)
	})
	if err != nil {
		return nil, err
	}
	out := make([]int32, len(ids))
	for i, v := range ids {
		out[i] = int32(v)
	}
	return out, nil
}

// Detokenize turns ids back into text.
func (m *Model) Detokenize(ids []int32, skipSpecial bool) (string, error) {
	var cs cStrings
	defer cs.free()
	arr := (*C.int32_t)(cs.alloc(4 * len(ids)))
	dst := unsafe.Slice(arr, len(ids))
	for i, v := range ids {
		dst[i] = C.int32_t(v)
	}
	b, err := fill(8*len(ids)+16, func(buf *C.char, c C.size_t, n *C.size_t) C.dianoia_status {
		return C.dianoia_detokenize(m.h, arr, C.size_t(len(ids)), C.bool(skipSpecial), buf, c, n)
	})
	return cbytes(b), err
}

func cbytes(b []C.char) string {
	if len(b) == 0 {
		return ""
	}
	return string(unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), len(b)))
}

// ApplyChatTemplate renders messages with the model's chat template (or tmpl when not ""), as Hugging
// Face's apply_chat_template(tokenize=False): vars are the template variables (e.g. "tools",
// "enable_thinking"). m may be nil when tmpl is given.
func (m *Model) ApplyChatTemplate(messages []Message, tmpl string, addGenerationPrompt bool,
	vars map[string]any) (string, error) {
	var cs cStrings
	defer cs.free()
	msgs, n, err := cMessages(&cs, messages)
	if err != nil {
		return "", err
	}
	var ctmpl, ckw *C.char
	if tmpl != "" {
		ctmpl = cs.str(tmpl)
	}
	if ckw, err = cJSON(&cs, vars); err != nil {
		return "", err
	}
	var h *C.dianoia_model
	if m != nil {
		h = m.h
	}
	b, err := fill(4096, func(buf *C.char, c C.size_t, need *C.size_t) C.dianoia_status {
		return C.dianoia_chat_apply_template(h, ctmpl, msgs, n, C.bool(addGenerationPrompt), ckw, buf, c, need)
	})
	return cbytes(b), err
}

func cJSON(cs *cStrings, v map[string]any) (*C.char, error) {
	if len(v) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, errorf("template variables: %v", err)
	}
	return cs.str(string(b)), nil
}
