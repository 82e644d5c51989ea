#include "runtime/loaded_model.hpp"

#include <filesystem>
#include <optional>

#include "core/error.hpp"
#include "core/mapped_file.hpp"
#include "model/registry.hpp"

namespace dianoia::detail {

namespace {

namespace fs = std::filesystem;

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// A Hugging Face model directory: what from_pretrained() would read. Any other directory is an I/O error,
// as it was before directories were accepted.
bool is_hf_model_dir(const fs::path& dir) {
  if (is_file(dir / "config.json") || is_file(dir / "tokenizer.json")) return true;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".safetensors") return true;
  return false;
}

std::string_view view(const mapped_file& f) {
  return {reinterpret_cast<const char*>(f.data()), f.size()};
}

}  // namespace

void loaded_model::load_hf_tokenizer(const std::string& json_path) {
  const mapped_file json(json_path);
  // The files HF keeps beside tokenizer.json: the special-token names and the chat template.
  const fs::path dir = fs::path(json_path).parent_path();
  std::optional<mapped_file> config;
  if (is_file(dir / "tokenizer_config.json")) config.emplace((dir / "tokenizer_config.json").string());
  tok_ = tokenizer::from_vocab(load_vocab_hf(view(json), config ? std::optional(view(*config)) : std::nullopt));
  if (config) chat_template_ = load_chat_template_hf(view(*config));
  // Newer HF repositories keep the template in a file of its own.
  if (chat_template_.empty() && is_file(dir / "chat_template.jinja")) {
    const mapped_file t((dir / "chat_template.jinja").string());
    chat_template_.assign(view(t));
  }
}

std::unique_ptr<loaded_model> loaded_model::load(const std::string& path, const load_options& opt) {
  auto step = [&](float p) {
    if (opt.progress && !opt.progress(p)) fail(errc::cancelled, "loading '{}' was cancelled", path);
  };
  step(0.0f);
  std::unique_ptr<loaded_model> m(new loaded_model());
  std::error_code ec;
  const bool dir = fs::is_directory(path, ec);
  const bool json = !dir && fs::path(path).extension() == ".json";
  if (dir || json) {
    if (dir && !is_hf_model_dir(path))
      fail(errc::io, "'{}' is a directory without a model (no tokenizer.json, config.json or *.safetensors)", path);
    if (!opt.vocab_only && dir)
      fail(errc::unsupported, "'{}' is a model directory: safetensors models are not supported yet", path);
    if (!opt.vocab_only)
      fail(errc::invalid_argument, "'{}' is a tokenizer.json: it has no weights, so it can only be loaded vocab-only",
           path);
    const std::string json_path = dir ? (fs::path(path) / "tokenizer.json").string() : path;
    if (dir && !is_file(json_path)) fail(errc::io, "'{}' has no tokenizer.json", path);
    step(0.3f);
    m->load_hf_tokenizer(json_path);
    step(0.6f);
    m->hp_.n_vocab = static_cast<uint32_t>(m->tok_->n_vocab());
    m->n_ctx_ = opt.context_length;
    step(1.0f);
    return m;
  }
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
