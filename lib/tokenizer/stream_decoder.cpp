#include "tokenizer/stream_decoder.hpp"

namespace dianoia::detail {

void stream_decoder::push(int32_t id, std::string& out) {
  piece_.clear();
  if (tok_.append_bytes(id, !skip_special_, first_, piece_)) first_ = false;
  utf8_.push(piece_, out);
}

void stream_decoder::flush(std::string& out) {
  utf8_.flush(out);
  first_ = true;
}

}  // namespace dianoia::detail
