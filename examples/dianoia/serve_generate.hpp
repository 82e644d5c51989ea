// One request's generation on a leased session, written out in OpenAI's shapes: a chat.completion /
// text_completion object, or server-sent events of *.chunk objects ending with "data: [DONE]".
// DeepSeek's `reasoning_content` carries the thinking, in the message and in stream deltas.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <dianoia/dianoia.hpp>

#include "serve_request.hpp"

namespace cli {

struct gen_context {
  const dianoia::model* model;
  std::string model_id;
  std::string id;       // "chatcmpl-..." / "cmpl-..."
  int64_t created = 0;  // unix seconds
  dianoia_generate_params defaults;  // the library's defaults with the model's generation_config applied
  int32_t default_max_tokens = 4096;
  uint64_t seed = 0;  // for requests without one: fresh per request, so that sampling varies as clients expect
  std::string tool_call_prefix = "call_";  // + the call's index: the ids of the answer's tool calls
};

// Writes bytes to the client; false once the client is gone (the generation then stops).
using body_writer = std::function<bool(std::string_view)>;

class generation;

// Turns one request's events into OpenAI's objects or server-sent events, as they come (run_generation
// feeds it a session's events; tests feed it scripted ones). gen_context::model may be null when no
// logprobs are asked for (it only names the alternatives' tokens).
class response_writer {
 public:
  response_writer(const gen_request& r, const gen_context& ctx, const body_writer& write);
  ~response_writer();
  response_writer(const response_writer&) = delete;
  response_writer& operator=(const response_writer&) = delete;
  bool on_event(const dianoia::event& ev);  // false: stop the generation (client gone, or a call ended it)
  void finish();                            // the final object, or the stream's last chunks and [DONE]
  void fail(const std::string& message);    // a library error after the status line went out

 private:
  std::unique_ptr<generation> impl_;
};

// Runs `r` on `s`. Streaming: SSE events as tokens arrive. Otherwise the JSON object at the end, after
// a space every second meanwhile (JSON allows leading whitespace), which is how a vanished client is
// noticed and its generation cancelled. A library error after the first byte is reported in the body
// (an "error" event or object): the status line has gone out by then.
void run_generation(const gen_request& r, const gen_context& ctx, dianoia::session& s, const body_writer& write);

// The dianoia_generate_params for `r` (strings point into `r`, which must outlive the result's use).
dianoia_generate_params to_params(const gen_request& r, const gen_context& ctx,
                                  std::vector<const char*>& stop_ptrs);

}  // namespace cli
