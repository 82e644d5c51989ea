package dianoia

/*
#include <stdint.h>
#include <stdlib.h>
#include <dianoia.h>

extern _Bool dianoiaGoEvent(dianoia_event* event, void* user_data);
extern _Bool dianoiaGoExtract(char* content, size_t content_len, char** answer, size_t* answer_len, void* user_data);
static dianoia_status dn_samples(dianoia_session* s, const dianoia_chat_message* m, size_t n, uint32_t n_samples,
                                 const dianoia_generate_params* p, uintptr_t extract, uintptr_t h) {
  return dianoia_session_chat_samples(s, m, n, n_samples, p, extract ? (dianoia_extract_fn)dianoiaGoExtract : NULL,
                                      (void*)extract, (dianoia_event_fn)dianoiaGoEvent, (void*)h);
}
*/
import "C"

import (
	"context"
	"runtime/cgo"
	"unsafe"
)

// extractor holds the host's extract function and its last answer, which the library reads until the
// next call (so it lives in C memory, freed then).
type extractor struct {
	fn     func(content string) (answer string, ok bool)
	answer *C.char
}

func (x *extractor) free() {
	if x.answer != nil {
		C.free(unsafe.Pointer(x.answer))
		x.answer = nil
	}
}

//export dianoiaGoExtract
func dianoiaGoExtract(content *C.char, n C.size_t, answer **C.char, answerLen *C.size_t, user unsafe.Pointer) C._Bool {
	x := cgo.Handle(uintptr(user)).Value().(*extractor)
	a, ok := x.fn(goText(content, n))
	if !ok {
		return false
	}
	x.free()
	x.answer = C.CString(a)
	*answer = x.answer
	*answerLen = C.size_t(len(a))
	return true
}

// ChatSamples is self-consistency: nSamples replies to messages (sample i with seed opt.Seed + i), their
// events one sample after another (each ending with its Done, Event.Sample saying which), then a Vote
// event, whose Vote is also returned. extract picks a sample's answer from its content (ok false: the
// sample abstains); nil uses the library's (the last \boxed{...}, else the last number). ctx's
// cancellation ends every started sample (the error is then ctx.Err()).
func (s *Session) ChatSamples(ctx context.Context, messages []Message, nSamples uint32, opt GenerateOptions,
	extract func(content string) (answer string, ok bool), fn func(Event) bool) (Vote, error) {
	var cs cStrings
	defer cs.free()
	msgs, n, err := cMessages(&cs, messages)
	if err != nil {
		return Vote{}, err
	}
	p, err := opt.c(&cs)
	if err != nil {
		return Vote{}, err
	}
	var xh C.uintptr_t
	if extract != nil {
		x := &extractor{fn: extract}
		h := cgo.NewHandle(x)
		defer func() { h.Delete(); x.free() }()
		xh = C.uintptr_t(h)
	}
	var vote Vote
	collect := func(e Event) bool {
		if e.Vote != nil {
			vote = *e.Vote
		}
		return fn == nil || fn(e)
	}
	_, err = s.generate(ctx, collect, func(user C.uintptr_t) C.dianoia_status {
		return C.dn_samples(s.h, msgs, n, C.uint32_t(nSamples), p, xh, user)
	})
	return vote, err
}
