// C ABI: streaming detokenization.
#include <memory>
#include <string>

#include "guard.hpp"
#include "handles.hpp"
#include "tokenizer/stream_decoder.hpp"

using namespace dianoia;
using detail::errc;
using detail::fail;

struct dianoia_detokenizer {
  std::unique_ptr<detail::stream_decoder> d;
  std::string out;
};

namespace {

void hand_out(dianoia_detokenizer& d, const char** text, size_t* len) {
  capi::require(text, "text") = d.out.c_str();
  capi::require(len, "text_len") = d.out.size();
}

}  // namespace

extern "C" {

DIANOIA_API dianoia_status dianoia_detokenizer_create(const dianoia_model* model, bool skip_special,
                                                      dianoia_detokenizer** out) {
  if (out) *out = nullptr;
  return capi::guarded([&] {
    capi::require(out, "out");
    const auto& m = capi::require(model, "model");
    auto h = std::make_unique<dianoia_detokenizer>();
    h->d = std::make_unique<detail::stream_decoder>(m.m->tok(), skip_special);
    *out = h.release();
  });
}

DIANOIA_API void dianoia_detokenizer_free(dianoia_detokenizer* detokenizer) { delete detokenizer; }

DIANOIA_API dianoia_status dianoia_detokenizer_push(dianoia_detokenizer* detokenizer, int32_t token, const char** text,
                                                    size_t* text_len) {
  if (text) *text = "";
  if (text_len) *text_len = 0;
  return capi::guarded([&] {
    auto& d = capi::require(detokenizer, "detokenizer");
    capi::require(text, "text");
    capi::require(text_len, "text_len");
    d.out.clear();
    d.d->push(token, d.out);
    hand_out(d, text, text_len);
  });
}

DIANOIA_API dianoia_status dianoia_detokenizer_flush(dianoia_detokenizer* detokenizer, const char** text,
                                                     size_t* text_len) {
  if (text) *text = "";
  if (text_len) *text_len = 0;
  return capi::guarded([&] {
    auto& d = capi::require(detokenizer, "detokenizer");
    capi::require(text, "text");
    capi::require(text_len, "text_len");
    d.out.clear();
    d.d->flush(d.out);
    hand_out(d, text, text_len);
  });
}

}  // extern "C"
