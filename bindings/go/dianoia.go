// Package dianoia runs reasoning language models on the CPU through libdianoia's C ABI (version 1).
//
// Build: the package links with `#cgo pkg-config: dianoia` (an installed libdianoia, or a dianoia.pc on
// PKG_CONFIG_PATH that points at a build tree; scripts/test-bindings.sh writes one).
//
// Thread-safety follows the C ABI: a *Model may be used from any number of goroutines at once; a
// *Session by one goroutine at a time (calls on it are serialized by a mutex), except Cancel, which any
// goroutine may call at any time.
package dianoia

/*
#cgo pkg-config: dianoia
#include <stdlib.h>
#include <dianoia.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"
)

// Status is a C status code (DIANOIA_OK, DIANOIA_ERR_*).
type Status int32

const (
	StatusOK              Status = C.DIANOIA_OK
	StatusInvalidArgument Status = C.DIANOIA_ERR_INVALID_ARGUMENT
	StatusIO              Status = C.DIANOIA_ERR_IO
	StatusFormat          Status = C.DIANOIA_ERR_FORMAT
	StatusUnsupported     Status = C.DIANOIA_ERR_UNSUPPORTED
	StatusOutOfMemory     Status = C.DIANOIA_ERR_OUT_OF_MEMORY
	StatusContextFull     Status = C.DIANOIA_ERR_CONTEXT_FULL
	StatusCancelled       Status = C.DIANOIA_ERR_CANCELLED
	StatusBufferTooSmall  Status = C.DIANOIA_ERR_BUFFER_TOO_SMALL
	StatusInternal        Status = C.DIANOIA_ERR_INTERNAL
)

func (s Status) String() string { return C.GoString(C.dianoia_status_string(C.dianoia_status(s))) }

// Error is a failed call: its status and the library's message.
type Error struct {
	Status  Status
	Message string
}

func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, dianoia.ErrIO) (and the other sentinels) match on the status.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Message == "" && t.Status == e.Status
}

// Sentinels for errors.Is.
var (
	ErrInvalidArgument = &Error{Status: StatusInvalidArgument}
	ErrIO              = &Error{Status: StatusIO}
	ErrFormat          = &Error{Status: StatusFormat}
	ErrUnsupported     = &Error{Status: StatusUnsupported}
	ErrOutOfMemory     = &Error{Status: StatusOutOfMemory}
	ErrContextFull     = &Error{Status: StatusContextFull}
	ErrCancelled       = &Error{Status: StatusCancelled}
	ErrInternal        = &Error{Status: StatusInternal}
)

// call runs one C call and reads dianoia_last_error on the same OS thread (the message is per thread
// and Go may move a goroutine between threads between two cgo calls).
func call(f func() C.dianoia_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	st := f()
	if st == C.DIANOIA_OK {
		return nil
	}
	return statusError(st, lastError())
}

func statusError(st C.dianoia_status, msg string) error {
	if st == C.DIANOIA_OK {
		return nil
	}
	if msg == "" {
		msg = Status(st).String()
	}
	return &Error{Status: Status(st), Message: msg}
}

func lastError() string { return C.GoString(C.dianoia_last_error()) }

// Version is the loaded library's version string, e.g. "1.0.0".
func Version() string { return C.GoString(C.dianoia_version_string()) }

// SystemInfo describes the CPU features the kernels use.
func SystemInfo() string { return C.GoString(C.dianoia_system_info()) }

// cStrings allocates C copies of Go strings, freed together.
type cStrings struct{ ptrs []unsafe.Pointer }

func (c *cStrings) str(s string) *C.char {
	p := C.CString(s)
	c.ptrs = append(c.ptrs, unsafe.Pointer(p))
	return p
}

func (c *cStrings) alloc(n int) unsafe.Pointer {
	if n == 0 {
		n = 1
	}
	p := C.calloc(C.size_t(n), 1)
	c.ptrs = append(c.ptrs, p)
	return p
}

func (c *cStrings) free() {
	for _, p := range c.ptrs {
		C.free(p)
	}
	c.ptrs = nil
}

func errorf(format string, args ...any) error {
	return &Error{Status: StatusInvalidArgument, Message: fmt.Sprintf(format, args...)}
}
