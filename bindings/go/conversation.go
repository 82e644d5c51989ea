package dianoia

/*
#include <stdlib.h>
#include <stdint.h>
#include <dianoia.h>

extern _Bool dianoiaGoEvent(dianoia_event* event, void* user_data);
static dianoia_status dn_send(dianoia_conversation* c, const char* text, size_t len, const dianoia_generate_params* p,
                              uintptr_t h) {
  return dianoia_conversation_send(c, text, len, p, (dianoia_event_fn)dianoiaGoEvent, (void*)h);
}
static dianoia_status dn_reply(dianoia_conversation* c, const dianoia_generate_params* p, uintptr_t h) {
  return dianoia_conversation_reply(c, p, (dianoia_event_fn)dianoiaGoEvent, (void*)h);
}
*/
import "C"

import (
	"context"
	"encoding/json"
	"runtime"
	"unsafe"
)

// Conversation is a multi-turn chat on a session that keeps the KV cache between turns. It uses the
// session's lock: one turn at a time.
type Conversation struct {
	h       *C.dianoia_conversation
	session *Session
}

// NewConversation starts a conversation on s (which must outlive it; needs a model with a chat template).
func (s *Session) NewConversation() (*Conversation, error) {
	var h *C.dianoia_conversation
	if err := call(func() C.dianoia_status { return C.dianoia_conversation_create(s.h, &h) }); err != nil {
		return nil, err
	}
	c := &Conversation{h: h, session: s}
	runtime.SetFinalizer(c, (*Conversation).Close)
	return c, nil
}

// Close frees the conversation. Safe to call twice.
func (c *Conversation) Close() {
	if c.h != nil {
		C.dianoia_conversation_free(c.h)
		c.h = nil
		runtime.SetFinalizer(c, nil)
	}
}

// Add appends a message without generating (a system prompt, earlier turns, a tool result).
func (c *Conversation) Add(m Message) error {
	var cs cStrings
	defer cs.free()
	msgs, _, err := cMessages(&cs, []Message{m})
	if err != nil {
		return err
	}
	return call(func() C.dianoia_status { return C.dianoia_conversation_add(c.h, msgs) })
}

// Send appends the user's turn and generates the reply (appended too), streaming events to fn.
func (c *Conversation) Send(ctx context.Context, text string, opt GenerateOptions, fn func(Event) bool) (Done, error) {
	var cs cStrings
	defer cs.free()
	p, err := opt.c(&cs)
	if err != nil {
		return Done{}, err
	}
	ct := cs.str(text)
	return c.session.generate(ctx, fn, func(user C.uintptr_t) C.dianoia_status {
		return C.dn_send(c.h, ct, C.size_t(len(text)), p, user)
	})
}

// AddToolResult appends a tool's result for the call toolCallID (a ToolCall event's ID; "" leaves it
// out) of tool name ("" leaves it out).
func (c *Conversation) AddToolResult(content, toolCallID, name string) error {
	var cs cStrings
	defer cs.free()
	opt := func(s string) *C.char {
		if s == "" {
			return nil
		}
		return cs.str(s)
	}
	cc, id, n := cs.str(content), opt(toolCallID), opt(name)
	return call(func() C.dianoia_status { return C.dianoia_conversation_add_tool_result(c.h, id, n, cc) })
}

// Reply generates the assistant's next turn for the messages as they stand (e.g. after tool results)
// and appends it, streaming events to fn. On error the conversation is unchanged.
func (c *Conversation) Reply(ctx context.Context, opt GenerateOptions, fn func(Event) bool) (Done, error) {
	var cs cStrings
	defer cs.free()
	p, err := opt.c(&cs)
	if err != nil {
		return Done{}, err
	}
	return c.session.generate(ctx, fn, func(user C.uintptr_t) C.dianoia_status { return C.dn_reply(c.h, p, user) })
}

// Messages are the conversation so far (further keys such as tool calls in Extra).
func (c *Conversation) Messages() ([]Message, error) {
	var n C.size_t
	if err := call(func() C.dianoia_status { return C.dianoia_conversation_message_count(c.h, &n) }); err != nil {
		return nil, err
	}
	part := func(i int, p C.int32_t) (string, error) {
		b, err := fill(256, func(buf *C.char, capacity C.size_t, need *C.size_t) C.dianoia_status {
			return C.dianoia_conversation_get_message(c.h, C.size_t(i), p, buf, capacity, need)
		})
		return cbytes(b), err
	}
	out := make([]Message, int(n))
	for i := range out {
		var err error
		var extra string
		if out[i].Role, err = part(i, C.DIANOIA_MESSAGE_ROLE); err != nil {
			return nil, err
		}
		out[i].Content, _ = part(i, C.DIANOIA_MESSAGE_CONTENT)
		out[i].ReasoningContent, _ = part(i, C.DIANOIA_MESSAGE_REASONING)
		if extra, err = part(i, C.DIANOIA_MESSAGE_EXTRA_JSON); err == nil && extra != "" {
			out[i].Extra = json.RawMessage(extra)
		}
	}
	return out, nil
}

// Save writes the messages and the session's context to a file; Load restores them.
func (c *Conversation) Save(path string) error {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	return call(func() C.dianoia_status { return C.dianoia_conversation_save(c.h, cp) })
}

func (c *Conversation) Load(path string) error {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	return call(func() C.dianoia_status { return C.dianoia_conversation_load(c.h, cp) })
}

// EvalLogits evaluates tokens from an empty context and returns the logits of the last nLogits
// positions (nLogits x vocabulary, position-major).
func (s *Session) EvalLogits(tokens []int32, nLogits int) ([]float32, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var cs cStrings
	defer cs.free()
	arr := (*C.int32_t)(cs.alloc(4 * len(tokens)))
	dst := unsafe.Slice(arr, len(tokens))
	for i, v := range tokens {
		dst[i] = C.int32_t(v)
	}
	f, err := fill(0, func(buf *C.float, capacity C.size_t, need *C.size_t) C.dianoia_status {
		return C.dianoia_session_eval_logits(s.h, arr, C.size_t(len(tokens)), C.size_t(nLogits), buf, capacity, need)
	})
	out := make([]float32, len(f))
	for i, v := range f {
		out[i] = float32(v)
	}
	return out, err
}
