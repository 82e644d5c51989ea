#include "runtime/loaded_model.hpp"

#include "core/error.hpp"
#include "model/registry.hpp"

namespace dianoia::detail {

std::unique_ptr<loaded_model> loaded_model::load(const std::string& path, const load_options& opt) {
  auto step = [&](float p) {
    if (opt.progress && !opt.progress(p)) fail(errc::cancelled, "loading '{}' was cancelled", path);
  };
  step(0.0f);
  std::unique_ptr<loaded_model> m(new loaded_model());
  m->file_ = gguf::file::open(path);
  step(0.3f);
  m->tok_ = tokenizer::from_gguf(*m->file_);
  step(0.6f);
  if (!opt.vocab_only) {
    m->net_ = create_model(*m->file_);
    m->hp_ = m->net_->hp();
    if (m->hp_.n_vocab != static_cast<uint32_t>(m->tok_->n_vocab()))
      fail(errc::format, "the tokenizer has {} tokens but the embedding has {} rows", m->tok_->n_vocab(), m->hp_.n_vocab);
  } else {
    m->hp_.arch = std::string(m->file_->get_string("general.architecture").value_or(""));
    m->hp_.n_vocab = static_cast<uint32_t>(m->tok_->n_vocab());
  }
  if (auto t = m->file_->get_string("tokenizer.chat_template")) m->chat_template_ = std::string(*t);
  if (auto n = m->file_->get_string("general.name")) m->name_ = std::string(*n);
  m->n_ctx_ = opt.context_length ? opt.context_length : m->hp_.n_ctx_train;
  step(1.0f);
  return m;
}

const model& loaded_model::net() const {
  if (!net_) fail(errc::invalid_argument, "the model was loaded vocab-only: it has a tokenizer but no network");
  return *net_;
}

}  // namespace dianoia::detail
