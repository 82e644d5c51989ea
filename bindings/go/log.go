package dianoia

/*
#include <stdint.h>
#include <dianoia.h>

extern void dianoiaGoLog(int32_t level, char* message, void* user_data);
static dianoia_status dn_log_set(int32_t min_level, int to_go) {
  return dianoia_log_set(to_go ? (dianoia_log_fn)dianoiaGoLog : NULL, NULL, min_level);
}
*/
import "C"

import (
	"sync/atomic"
	"unsafe"
)

// LogLevel is a level of the library's log messages.
type LogLevel int32

const (
	LogDebug LogLevel = C.DIANOIA_LOG_DEBUG
	LogInfo  LogLevel = C.DIANOIA_LOG_INFO
	LogWarn  LogLevel = C.DIANOIA_LOG_WARN
	LogError LogLevel = C.DIANOIA_LOG_ERROR
	LogNone  LogLevel = C.DIANOIA_LOG_NONE // as a threshold: nothing
)

// The process-wide logger (the C ABI has one); read by whichever thread logs.
var logger atomic.Pointer[func(LogLevel, string)]

//export dianoiaGoLog
func dianoiaGoLog(level C.int32_t, message *C.char, _ unsafe.Pointer) {
	if f := logger.Load(); f != nil && message != nil {
		(*f)(LogLevel(level), C.GoString(message))
	}
}

// SetLogger routes the library's log messages at or above minLevel to fn, which may be called from any
// thread, several at once, and must not call back into dianoia. A nil fn restores the library's default
// (stderr).
func SetLogger(minLevel LogLevel, fn func(level LogLevel, message string)) error {
	if fn == nil {
		err := call(func() C.dianoia_status { return C.dn_log_set(C.int32_t(minLevel), 0) })
		if err == nil {
			logger.Store(nil)
		}
		return err
	}
	prev := logger.Swap(&fn)
	err := call(func() C.dianoia_status { return C.dn_log_set(C.int32_t(minLevel), 1) })
	if err != nil {
		logger.CompareAndSwap(&fn, prev) // refused (a bad level): the previous logger stays
	}
	return err
}

// VersionInfo is the loaded library's version as numbers (Version is the same as a string).
func VersionInfo() (major, minor, patch int) {
	v := int(C.dianoia_version())
	return v / 10000, v / 100 % 100, v % 100
}
