package dianoia

/*
#include <stdlib.h>
#include <dianoia.h>

#include <stdint.h>

extern _Bool dianoiaGoEvent(dianoia_event* event, void* user_data);
// The Go callback with a cgo.Handle as user data (an integer: no Go pointer crosses into C).
static dianoia_status dn_chat(dianoia_session* s, const dianoia_chat_message* m, size_t n,
                              const dianoia_generate_params* p, uintptr_t h) {
  return dianoia_session_chat(s, m, n, p, (dianoia_event_fn)dianoiaGoEvent, (void*)h);
}
static dianoia_status dn_complete_tokens(dianoia_session* s, const int32_t* ids, size_t n,
                                         const dianoia_generate_params* p, uintptr_t h) {
  return dianoia_session_complete_tokens(s, ids, n, p, (dianoia_event_fn)dianoiaGoEvent, (void*)h);
}
static dianoia_status dn_complete(dianoia_session* s, const char* text, size_t len, const dianoia_generate_params* p,
                                  uintptr_t h) {
  return dianoia_session_complete(s, text, len, p, (dianoia_event_fn)dianoiaGoEvent, (void*)h);
}
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// ToolCall is one call of an assistant turn (OpenAI / Hugging Face shape).
type ToolCall struct {
	ID        string // "" leaves the key out
	Name      string
	Arguments json.RawMessage // JSON text, usually an object; nil: {}
}

// Message is one message of a conversation as chat templates see it.
type Message struct {
	Role             string
	Content          string
	NoContent        bool // content is None (an assistant turn of only tool calls)
	ReasoningContent string
	ToolCalls        []ToolCall
	ToolCallID       string
	Name             string
	Extra            json.RawMessage // further keys as a JSON object
}

func cMessages(cs *cStrings, msgs []Message) (*C.dianoia_chat_message, C.size_t, error) {
	arr := (*C.dianoia_chat_message)(cs.alloc(len(msgs) * int(unsafe.Sizeof(C.dianoia_chat_message{}))))
	out := unsafe.Slice(arr, len(msgs))
	opt := func(s string) *C.char {
		if s == "" {
			return nil
		}
		return cs.str(s)
	}
	for i, m := range msgs {
		c := &out[i]
		c.role = cs.str(m.Role)
		if !m.NoContent {
			c.content = cs.str(m.Content)
		}
		c.reasoning_content = opt(m.ReasoningContent)
		c.tool_call_id = opt(m.ToolCallID)
		c.name = opt(m.Name)
		c.extra_json = opt(string(m.Extra))
		if len(m.ToolCalls) > 0 {
			calls := (*C.dianoia_tool_call)(cs.alloc(len(m.ToolCalls) * int(unsafe.Sizeof(C.dianoia_tool_call{}))))
			for k, tc := range m.ToolCalls {
				e := &unsafe.Slice(calls, len(m.ToolCalls))[k]
				e.id = opt(tc.ID)
				e.name = cs.str(tc.Name)
				e.arguments = opt(string(tc.Arguments))
			}
			c.tool_calls = calls
			c.n_tool_calls = C.size_t(len(m.ToolCalls))
		}
	}
	return arr, C.size_t(len(msgs)), nil
}

// Reasoning modes (GenerateOptions.Reasoning).
const (
	ReasoningAuto = int32(C.DIANOIA_REASONING_AUTO)
	ReasoningOn   = int32(C.DIANOIA_REASONING_ON)
	ReasoningOff  = int32(C.DIANOIA_REASONING_OFF)
)

// GenerateOptions are the common fields of dianoia_generate_params; start from DefaultGenerateOptions.
type GenerateOptions struct {
	MaxTokens          int32
	Temperature        float32
	TopK               int32
	TopP, MinP         float32
	Seed               uint64
	Reasoning          int32 // ReasoningAuto / On / Off
	MaxReasoningTokens int32 // < 0: unlimited
	MinReasoningTokens int32
	WrapUpText         string
	Stop               []string
	IgnoreEOS          bool
	// Chat only: template variables ("tools", "enable_thinking", ...); json.RawMessage values keep their
	// key order (tojson prints them as given).
	TemplateVars map[string]any
	// Constrains the answer channel (the thought stays free): GrammarJSONSchema, GrammarLark or
	// GrammarRegex with its text in Grammar; GrammarNone (0) leaves the answer free. Needs a library
	// built with the grammar engine (HasGrammarEngine); a bad grammar is an error with the engine's message.
	GrammarKind int32
	Grammar     string
}

// Grammar kinds (GenerateOptions.GrammarKind).
const (
	GrammarNone       = int32(C.DIANOIA_GRAMMAR_NONE)
	GrammarJSONSchema = int32(C.DIANOIA_GRAMMAR_JSON_SCHEMA)
	GrammarLark       = int32(C.DIANOIA_GRAMMAR_LARK)
	GrammarRegex      = int32(C.DIANOIA_GRAMMAR_REGEX)
)

// HasGrammarEngine reports whether the library was built with the grammar engine (llguidance).
func HasGrammarEngine() bool { return bool(C.dianoia_has_grammar_engine()) }

// DefaultGenerateOptions are the library's defaults.
func DefaultGenerateOptions() GenerateOptions {
	var p C.dianoia_generate_params
	C.dianoia_generate_params_init(&p, C.size_t(unsafe.Sizeof(p)))
	return GenerateOptions{MaxTokens: int32(p.max_tokens), Temperature: float32(p.temperature),
		TopK: int32(p.top_k), TopP: float32(p.top_p), MinP: float32(p.min_p), Seed: uint64(p.seed),
		Reasoning: int32(p.reasoning), MaxReasoningTokens: int32(p.max_reasoning_tokens)}
}

func (o *GenerateOptions) c(cs *cStrings) (*C.dianoia_generate_params, error) {
	p := (*C.dianoia_generate_params)(cs.alloc(int(unsafe.Sizeof(C.dianoia_generate_params{}))))
	C.dianoia_generate_params_init(p, C.size_t(unsafe.Sizeof(*p)))
	p.max_tokens = C.int32_t(o.MaxTokens)
	p.temperature = C.float(o.Temperature)
	p.top_k = C.int32_t(o.TopK)
	p.top_p = C.float(o.TopP)
	p.min_p = C.float(o.MinP)
	p.seed = C.uint64_t(o.Seed)
	p.reasoning = C.int32_t(o.Reasoning)
	p.max_reasoning_tokens = C.int32_t(o.MaxReasoningTokens)
	p.min_reasoning_tokens = C.int32_t(o.MinReasoningTokens)
	p.ignore_eos = C.bool(o.IgnoreEOS)
	if o.WrapUpText != "" {
		p.wrap_up_text = cs.str(o.WrapUpText)
	}
	if len(o.Stop) > 0 {
		arr := (**C.char)(cs.alloc(len(o.Stop) * int(unsafe.Sizeof((*C.char)(nil)))))
		for i, s := range o.Stop {
			unsafe.Slice(arr, len(o.Stop))[i] = cs.str(s)
		}
		p.stop = arr
		p.n_stop = C.size_t(len(o.Stop))
	}
	if o.GrammarKind != GrammarNone {
		p.grammar_kind = C.int32_t(o.GrammarKind)
		p.grammar = cs.str(o.Grammar)
	}
	kw, err := cJSON(cs, o.TemplateVars)
	p.chat_template_kwargs = kw
	return p, err
}

// Event types.
const (
	EventReasoning = int32(C.DIANOIA_EVENT_REASONING)
	EventContent   = int32(C.DIANOIA_EVENT_CONTENT)
	EventDone      = int32(C.DIANOIA_EVENT_DONE)
	EventToken     = int32(C.DIANOIA_EVENT_TOKEN)
	EventVote      = int32(C.DIANOIA_EVENT_VOTE)
	EventToolCall  = int32(C.DIANOIA_EVENT_TOOL_CALL)
)

// Stop reasons (Done.StopReason).
const (
	StopEOS         = int32(C.DIANOIA_STOP_EOS)
	StopMaxTokens   = int32(C.DIANOIA_STOP_MAX_TOKENS)
	StopContextFull = int32(C.DIANOIA_STOP_CONTEXT_FULL)
	StopCancelled   = int32(C.DIANOIA_STOP_CANCELLED)
	StopCallback    = int32(C.DIANOIA_STOP_CALLBACK)
	StopString      = int32(C.DIANOIA_STOP_STRING)
)

// Done is the summary a generation ends with.
type Done struct {
	StopReason                                                 int32
	PromptTokens, ReasoningTokens, ContentTokens, PromptReused uint32
	InjectedTokens                                             uint32
	PromptSeconds, GenerateSeconds                             float64
	StopString                                                 string
}

// Event is one event of a generation, copied out of the callback. Type is one of Event*; a newer
// library may send types this package does not know (skip them).
type Event struct {
	Type     int32
	Text     string // Reasoning / Content: text; Token: the token's raw bytes
	Sample   uint32
	Token    int32     // Token events
	Done     *Done     // Done events
	Vote     *Vote     // Vote events (samples)
	ToolCall *ToolCall // ToolCall events (with GenerateOptions tools): ID, Name, Arguments
}

// VoteEntry is one answer of a self-consistency vote.
type VoteEntry struct {
	Answer      string
	Count       uint32
	FirstSample uint32 // the first sample that gave this answer
}

// Vote is the vote over the samples' answers: entries by count, descending (ties: the earlier answer
// first).
type Vote struct {
	Entries   []VoteEntry
	Abstained uint32 // samples without an extractable answer
	Tie       bool   // the top count is shared; the winner (Entries[0]) is the earlier answer
}

type stream struct {
	fn func(Event) bool
}

//export dianoiaGoEvent
func dianoiaGoEvent(ev *C.dianoia_event, user unsafe.Pointer) C._Bool {
	st := cgo.Handle(uintptr(user)).Value().(*stream)
	e := Event{Type: int32(ev._type), Sample: uint32(ev.sample_index), Token: int32(ev.token)}
	if ev.text != nil && ev.text_len > 0 {
		e.Text = C.GoStringN(ev.text, C.int(ev.text_len))
	}
	if e.Type == EventDone {
		d := &Done{StopReason: int32(ev.stop_reason), PromptTokens: uint32(ev.prompt_tokens),
			ReasoningTokens: uint32(ev.reasoning_tokens), ContentTokens: uint32(ev.content_tokens),
			PromptReused: uint32(ev.prompt_reused), InjectedTokens: uint32(ev.injected_tokens),
			PromptSeconds: float64(ev.prompt_seconds), GenerateSeconds: float64(ev.generate_seconds)}
		if ev.stop_string_len > 0 {
			d.StopString = C.GoStringN(ev.stop_string, C.int(ev.stop_string_len))
		}
		e.Done = d
	}
	switch e.Type {
	case EventVote:
		v := &Vote{Abstained: uint32(ev.abstained), Tie: bool(ev.tie)}
		if ev.votes != nil {
			for _, ve := range unsafe.Slice(ev.votes, int(ev.n_votes)) {
				v.Entries = append(v.Entries, VoteEntry{Answer: goText(ve.answer, ve.answer_len),
					Count: uint32(ve.count), FirstSample: uint32(ve.first_sample)})
			}
		}
		e.Vote = v
	case EventToolCall:
		e.ToolCall = &ToolCall{ID: goText(ev.tool_call_id, ev.tool_call_id_len), Name: goText(ev.tool_name, ev.tool_name_len),
			Arguments: json.RawMessage(goText(ev.tool_arguments, ev.tool_arguments_len))}
	}
	return C._Bool(st.fn(e))
}

// Session is a KV cache and decode loop on a model. Calls are serialized; Cancel may come from anywhere.
type Session struct {
	h     *C.dianoia_session
	model *Model
	mu    sync.Mutex
}

// SessionOptions are dianoia_session_params; zero values are the defaults.
type SessionOptions struct {
	ContextLength uint32
	Threads       int32
}

// NewSession creates a session on m (which must outlive it).
func (m *Model) NewSession(opts ...SessionOptions) (*Session, error) {
	var p C.dianoia_session_params
	C.dianoia_session_params_init(&p, C.size_t(unsafe.Sizeof(p)))
	if len(opts) > 0 {
		p.context_length = C.uint32_t(opts[0].ContextLength)
		p.n_threads = C.int32_t(opts[0].Threads)
	}
	var h *C.dianoia_session
	if err := call(func() C.dianoia_status { return C.dianoia_session_create(m.h, &p, &h) }); err != nil {
		return nil, err
	}
	s := &Session{h: h, model: m}
	runtime.SetFinalizer(s, (*Session).Close)
	return s, nil
}

// Close frees the session (waiting for a running generation, which it cancels).
func (s *Session) Close() {
	s.Cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h != nil {
		C.dianoia_session_free(s.h)
		s.h = nil
		runtime.SetFinalizer(s, nil)
	}
}

// Cancel stops the running generation (its Done says StopCancelled). Safe from any goroutine.
func (s *Session) Cancel() {
	if h := s.h; h != nil {
		C.dianoia_session_cancel(h)
	}
}

// generate runs one generation with ctx cancellation and returns its Done.
func (s *Session) generate(ctx context.Context, fn func(Event) bool,
	run func(user C.uintptr_t) C.dianoia_status) (Done, error) {
	if err := ctx.Err(); err != nil {
		return Done{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h == nil {
		return Done{}, errorf("the session is closed")
	}
	var done Done
	st := &stream{fn: func(e Event) bool {
		if e.Done != nil {
			done = *e.Done
		}
		if fn != nil {
			return fn(e)
		}
		return true
	}}
	handle := cgo.NewHandle(st)
	defer handle.Delete()
	finished := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			C.dianoia_session_cancel(s.h)
		case <-finished:
		}
	}()
	err := call(func() C.dianoia_status { return run(C.uintptr_t(handle)) })
	close(finished)
	if err == nil && done.StopReason == StopCancelled && ctx.Err() != nil {
		return done, ctx.Err()
	}
	return done, err
}

// Chat generates a reply to messages, streaming events to fn (nil: none; return false to stop). ctx's
// cancellation stops the generation (the error is then ctx.Err()).
func (s *Session) Chat(ctx context.Context, messages []Message, opt GenerateOptions, fn func(Event) bool) (Done, error) {
	var cs cStrings
	defer cs.free()
	msgs, n, err := cMessages(&cs, messages)
	if err != nil {
		return Done{}, err
	}
	p, err := opt.c(&cs)
	if err != nil {
		return Done{}, err
	}
	return s.generate(ctx, fn, func(user C.uintptr_t) C.dianoia_status { return C.dn_chat(s.h, msgs, n, p, user) })
}

// Complete continues plain text (BOS as the vocabulary asks), streaming events to fn.
func (s *Session) Complete(ctx context.Context, prompt string, opt GenerateOptions, fn func(Event) bool) (Done, error) {
	var cs cStrings
	defer cs.free()
	p, err := opt.c(&cs)
	if err != nil {
		return Done{}, err
	}
	cp := cs.str(prompt)
	return s.generate(ctx, fn, func(user C.uintptr_t) C.dianoia_status {
		return C.dn_complete(s.h, cp, C.size_t(len(prompt)), p, user)
	})
}

// CompleteTokens continues from token ids (nothing added: no BOS, no template), streaming events to fn.
func (s *Session) CompleteTokens(ctx context.Context, ids []int32, opt GenerateOptions, fn func(Event) bool) (Done, error) {
	var cs cStrings
	defer cs.free()
	p, err := opt.c(&cs)
	if err != nil {
		return Done{}, err
	}
	arr := cIDs(&cs, ids)
	return s.generate(ctx, fn, func(user C.uintptr_t) C.dianoia_status {
		return C.dn_complete_tokens(s.h, arr, C.size_t(len(ids)), p, user)
	})
}

func cIDs(cs *cStrings, ids []int32) *C.int32_t {
	arr := (*C.int32_t)(cs.alloc(4 * len(ids)))
	dst := unsafe.Slice(arr, len(ids))
	for i, v := range ids {
		dst[i] = C.int32_t(v)
	}
	return arr
}

// Save writes the session's context (token ids and KV cache) to a file, atomically.
func (s *Session) Save(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	return call(func() C.dianoia_status { return C.dianoia_session_save(s.h, cp) })
}

// Load restores a context saved by Save from a session of the same model and KV type: a generation whose
// prompt extends the saved tokens continues where it stood. On error the session is left empty.
func (s *Session) Load(path string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	return call(func() C.dianoia_status { return C.dianoia_session_load(s.h, cp) })
}

// Tokens are the prompt and generated ids of the last generation.
func (s *Session) Tokens() ([]int32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, err := fill(256, func(b *C.int32_t, c C.size_t, n *C.size_t) C.dianoia_status {
		return C.dianoia_session_get_tokens(s.h, b, c, n)
	})
	out := make([]int32, len(ids))
	for i, v := range ids {
		out[i] = int32(v)
	}
	return out, err
}
