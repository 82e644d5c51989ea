/* Compiled as C99, C11 and C++ with every warning an error (tests/abi/CMakeLists.cmake): the public header
 * must stay clean plain C for every binding generator and compiler flag set. Not linked. */
#include <dianoia.h>
#include <string.h>

int dianoia_header_check(void);
int dianoia_header_check(void) {
  dianoia_model_params mp = dianoia_model_default_params();
  dianoia_session_params sp = dianoia_session_default_params();
  dianoia_generate_params gp = dianoia_generate_default_params();
  dianoia_chat_message msg;
  dianoia_tool_call call;
  dianoia_event ev;
  dianoia_status st = DIANOIA_OK;
  memset(&msg, 0, sizeof msg); /* (C's {0} would warn in C++) */
  memset(&call, 0, sizeof call);
  memset(&ev, 0, sizeof ev);
  msg.role = "user";
  msg.content = "hi";
  msg.tool_calls = &call;
  gp.reasoning = DIANOIA_REASONING_ON;
  sp.kv_type = DIANOIA_KV_F32;
  ev.type = DIANOIA_EVENT_DONE;
  ev.stop_reason = DIANOIA_STOP_CANCELLED;
  st = dianoia_chat_apply_template(0, "{{ 1 }}", &msg, 1, true, 0, 0, 0, 0);
  return (int)(mp.struct_size + sp.struct_size + gp.struct_size) + st + ev.type + DIANOIA_LOG_WARN +
         DIANOIA_MESSAGE_EXTRA_JSON;
}
