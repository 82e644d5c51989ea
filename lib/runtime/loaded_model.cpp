#include "runtime/loaded_model.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/mapped_file.hpp"
#include "core/prefault.hpp"
#include "model/hparams_gguf.hpp"
#include "model/registry.hpp"
#include "runtime/hf_weights.hpp"

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

std::string summarize_types(const tensor_source* weights, const safetensors::tensor_set* st);
std::string describe_tokenizer(const tokenizer& t);

// Without mmap the files are read whole: refuse before reading what the memory cap cannot hold (a split
// GGUF's other parts are counted after they are read, with the rest of the weights).
void check_read_budget(const std::vector<std::string>& files, uint64_t max_bytes, const std::string& what) {
  memory_estimate need;
  for (const auto& f : files) {
    std::error_code ec;
    const auto n = fs::file_size(f, ec);
    if (!ec) need.owned_bytes += n;
  }
  check_memory_budget(need, max_bytes, fmt::format("model '{}' read into memory (use_mmap off)", what));
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
  std::function<void(float)> step = [&](float p) {
    if (opt.progress && !opt.progress(p)) fail(errc::cancelled, "loading '{}' was cancelled", path);
  };
  step(0.0f);
  std::unique_ptr<loaded_model> m(new loaded_model());
  m->max_memory_ = opt.max_memory_bytes;
  std::error_code ec;
  const bool dir = fs::is_directory(path, ec);
  const bool json = !dir && fs::path(path).extension() == ".json";
  if (dir && !is_hf_model_dir(path))
    fail(errc::io, "'{}' is a directory without a model (no tokenizer.json, config.json or *.safetensors)", path);
  if (dir && !opt.vocab_only) {
    m->load_hf_dir(path, opt, step);
  } else if (dir || json) {
    if (!opt.vocab_only)
      fail(errc::invalid_argument, "'{}' is a tokenizer.json: it has no weights, so it can only be loaded vocab-only",
           path);
    const std::string json_path = dir ? (fs::path(path) / "tokenizer.json").string() : path;
    if (dir && !is_file(json_path)) fail(errc::io, "'{}' has no tokenizer.json", path);
    step(0.3f);
    m->load_hf_tokenizer(json_path);
    step(0.6f);
    m->format_ = "tokenizer.json";
    m->hp_.n_vocab = static_cast<uint32_t>(m->tok_->n_vocab());
    m->n_ctx_ = opt.context_length;
  } else {
    m->load_gguf(path, opt, step);
  }
  // Fault the weights in now rather than during the first prompt, whose time to first token would
  // otherwise include one page fault per 4 KiB of the model (llama.cpp populates its mapping likewise).
  if (!opt.vocab_only && m->weights_)
    for (const auto& t : m->weights_->all_tensors()) prefault_read(t.data, t.nbytes);
  m->tensor_types_ = summarize_types(m->weights_, m->st_.get());
  m->tokenizer_kind_ = describe_tokenizer(*m->tok_);
  step(1.0f);
  log(log_level::info, "loaded '{}': {} {}, {} tokens of vocabulary, {} context, weights {}", path, m->format_,
      m->hp_.arch, m->hp_.n_vocab, m->n_ctx_, m->tensor_types_);
  return m;
}

void loaded_model::load_gguf(const std::string& path, const load_options& opt, const std::function<void(float)>& step) {
  const file_access access = opt.use_mmap || opt.vocab_only ? file_access::map : file_access::read;
  if (access == file_access::read) check_read_budget({path}, opt.max_memory_bytes, path);
  gguf_ = gguf::split_set::open(path, access);
  const gguf::file& f = gguf_->first();
  format_ = "gguf";
  file_bytes_ = gguf_->file_bytes();
  weights_ = gguf_.get();
  step(0.3f);
  tok_ = tokenizer::from_gguf(f);
  step(0.6f);
  if (!opt.vocab_only) {
    const auto arch = f.get_string("general.architecture");
    if (!arch) fail(errc::format, "'{}' has no general.architecture", f.name());
    if (!architecture_supported(*arch))
      fail(errc::unsupported, "unknown model architecture '{}' (supported: {})", *arch, supported_architectures());
    for (const auto& t : gguf_->all_tensors()) memory_.mapped_bytes += t.nbytes;
    check_memory_budget(memory_, opt.max_memory_bytes, fmt::format("model '{}'", path));
    net_ = create_model(hparams_from_gguf(f), *gguf_);
    hp_ = net_->hp();
    if (hp_.n_vocab != static_cast<uint32_t>(tok_->n_vocab()))
      fail(errc::format, "the tokenizer has {} tokens but the embedding has {} rows", tok_->n_vocab(), hp_.n_vocab);
  } else {
    hp_.arch = std::string(f.get_string("general.architecture").value_or(""));
    hp_.n_vocab = static_cast<uint32_t>(tok_->n_vocab());
  }
  if (auto t = f.get_string("tokenizer.chat_template")) chat_template_ = std::string(*t);
  if (auto n = f.get_string("general.name")) name_ = std::string(*n);
  n_ctx_ = opt.context_length ? opt.context_length : hp_.n_ctx_train;
}

void loaded_model::load_hf_dir(const std::string& dir, const load_options& opt, const std::function<void(float)>& step) {
  const fs::path d(dir);
  format_ = "safetensors";
  if (!is_file(d / "config.json") && is_file(d / "tokenizer.json"))
    fail(errc::invalid_argument, "'{}' holds a tokenizer but no config.json: without weights it can only be loaded vocab-only",
         dir);
  hparams hp = read_hf_config(dir);
  if (!architecture_supported(hp.arch))
    fail(errc::unsupported, "'{}': architecture '{}' cannot run yet (supported: {})", dir, hp.arch, supported_architectures());
  if (!is_file(d / "tokenizer.json")) fail(errc::io, "'{}' has no tokenizer.json", dir);
  if (!opt.use_mmap) {
    std::vector<std::string> files;
    std::error_code ec;
    for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".safetensors") files.push_back(it->path().string());
    check_read_budget(files, opt.max_memory_bytes, dir);
  }
  st_ = open_hf_weights(dir, hp, opt.use_mmap ? file_access::map : file_access::read);
  weights_ = st_.get();
  file_bytes_ = st_->file_bytes();
  step(0.2f);
  memory_.mapped_bytes = st_->mapped_bytes();
  memory_.owned_bytes = st_->owned_bytes();
  check_memory_budget(memory_, opt.max_memory_bytes, fmt::format("model '{}'", dir));
  load_hf_tokenizer((d / "tokenizer.json").string());
  if (is_file(d / "generation_config.json")) {
    const mapped_file g((d / "generation_config.json").string());
    generation_ = generation_defaults_from_json(view(g));
  }
  step(0.4f);
  st_->materialize();
  step(0.8f);
  if (!hp.tied_output && !st_->find_tensor("output.weight"))
    fail(errc::format, "'{}': config.json says the output matrix is not tied but lm_head.weight is missing", dir);
  net_ = create_model(hp, *st_);
  hp_ = net_->hp();
  // HF embeddings are often padded past the tokenizer (Qwen: 151936 rows for 151669 tokens); the extra
  // rows are never produced by the tokenizer. Fewer rows than tokens is a broken model.
  if (hp_.n_vocab < static_cast<uint32_t>(tok_->n_vocab()))
    fail(errc::format, "the tokenizer has {} tokens but the embedding has only {} rows", tok_->n_vocab(), hp_.n_vocab);
  if (hp_.n_vocab > static_cast<uint32_t>(tok_->n_vocab()))
    log(log_level::info, "'{}': embedding padded past the tokenizer: {} rows (config.json 'vocab_size') for {} tokens; "
        "rows {}..{} match no token", dir, hp_.n_vocab, tok_->n_vocab(), tok_->n_vocab(), hp_.n_vocab - 1);
  name_ = d.filename().empty() ? d.parent_path().filename().string() : d.filename().string();
  n_ctx_ = opt.context_length ? opt.context_length : hp_.n_ctx_train;
}

namespace {
std::string summarize_types(const tensor_source* weights, const safetensors::tensor_set* st) {
  if (!weights) return "";
  std::vector<std::pair<std::string, size_t>> counts;
  size_t repacked = 0;
  for (const auto& t : weights->all_tensors()) {
    const std::string n(ggml_traits(t.type).name);
    auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == n; });
    if (it == counts.end()) counts.emplace_back(n, 1);
    else ++it->second;
    if (st && st->is_repacked(t.name)) ++repacked;
  }
  std::stable_sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (const auto& [n, c] : counts) out += fmt::format("{}{} x {}", out.empty() ? "" : ", ", n, c);
  if (repacked) out += fmt::format(" ({} repacked at load)", repacked);
  return out;
}

std::string describe_tokenizer(const tokenizer& t) {
  const auto& v = t.vocab();
  return v.model == vocab_model::spm ? "spm" : "bpe (" + v.pre + ")";
}
}  // namespace

const model& loaded_model::net() const {
  if (!net_) fail(errc::invalid_argument, "the model was loaded vocab-only: it has a tokenizer but no network");
  return *net_;
}

}  // namespace dianoia::detail
