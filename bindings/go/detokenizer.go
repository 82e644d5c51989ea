package dianoia

/*
#include <dianoia.h>
*/
import "C"

import (
	"runtime"
)

// Detokenizer turns a stream of ids into text, one whole UTF-8 character at a time (bytes of a character
// split across tokens are held back until it completes). One goroutine at a time; the model must
// outlive it.
type Detokenizer struct {
	h *C.dianoia_detokenizer
}

// NewDetokenizer starts a stream; skipSpecial leaves control tokens out.
func (m *Model) NewDetokenizer(skipSpecial bool) (*Detokenizer, error) {
	var h *C.dianoia_detokenizer
	if err := call(func() C.dianoia_status { return C.dianoia_detokenizer_create(m.h, C.bool(skipSpecial), &h) }); err != nil {
		return nil, err
	}
	d := &Detokenizer{h: h}
	runtime.SetFinalizer(d, (*Detokenizer).Close)
	return d, nil
}

// Close frees the detokenizer. Safe to call twice.
func (d *Detokenizer) Close() {
	if d.h != nil {
		C.dianoia_detokenizer_free(d.h)
		d.h = nil
		runtime.SetFinalizer(d, nil)
	}
}

// Push appends id and returns the text it completes (possibly "").
func (d *Detokenizer) Push(id int32) (string, error) {
	var text *C.char
	var n C.size_t
	err := call(func() C.dianoia_status { return C.dianoia_detokenizer_push(d.h, C.int32_t(id), &text, &n) })
	return goText(text, n), err
}

// Flush ends the stream: what was held back (an unfinished character becomes U+FFFD). The detokenizer
// can then start a new stream.
func (d *Detokenizer) Flush() (string, error) {
	var text *C.char
	var n C.size_t
	err := call(func() C.dianoia_status { return C.dianoia_detokenizer_flush(d.h, &text, &n) })
	return goText(text, n), err
}

func goText(p *C.char, n C.size_t) string {
	if p == nil || n == 0 {
		return ""
	}
	return C.GoStringN(p, C.int(n))
}
